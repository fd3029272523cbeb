from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("trusts/", views.trusts, name="trusts"),
    path("trusts/<str:ods_code>/", views.trust, name="trust"),
    path("trusts/<str:ods_code>/units/<int:unit_id>/", views.unit, name="unit"),
    path("national/", views.national, name="national"),
]
