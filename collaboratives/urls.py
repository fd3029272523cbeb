app_name = "collaboratives"

urlpatterns = []
