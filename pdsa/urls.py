app_name = "pdsa"

urlpatterns = []
