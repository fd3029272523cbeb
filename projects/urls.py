from django.urls import include, path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("<int:pk>/", views.project_detail, name="detail"),
    # Driver diagrams, measures and data entry live in the measure_* modules.
    path("", include("projects.measure_urls")),
]
