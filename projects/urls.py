from django.urls import include, path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("new/", views.project_create, name="create"),
    path("similar/", views.project_similar, name="similar"),
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/edit/", views.project_edit, name="edit"),
    path("<int:pk>/status/", views.project_status, name="status"),
    path("<int:pk>/progress/", views.project_progress, name="progress"),
    path("<int:pk>/team/", views.project_team, name="team"),
    path("<int:pk>/team/<int:member_pk>/remove/", views.project_team_remove, name="team_remove"),
    path("<int:pk>/history/", views.project_history, name="history"),
    # Driver diagrams, measures and data entry live in the measure_* modules.
    path("", include("projects.measure_urls")),
]
