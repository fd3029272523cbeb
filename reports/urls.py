from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("trusts/", views.trusts, name="trusts"),
    path("trusts/<str:ods_code>/", views.trust, name="trust"),
    path("trusts/<str:ods_code>/units/<int:unit_id>/", views.unit, name="unit"),
    path("trusts/<str:ods_code>/measures.<str:fmt>", views.measures_export,
         name="measures_export"),
    path("trusts/<str:ods_code>/units/<int:unit_id>/measures.<str:fmt>",
         views.measures_export, name="unit_measures_export"),
    path("national/", views.national, name="national"),
]

# Mounted in the "projects" namespace under /projects/ by qi_portal/urls.py.
project_urlpatterns = [
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/progress/", views.project_progress, name="progress"),
    path("<int:pk>/history/", views.project_history, name="history"),
    path("<int:pk>/measures/<int:mid>/", views.measure_detail, name="measure_detail"),
]
