"""PDSA URLs, mounted at /pdsa/ (namespace "pdsa").

`project_urlpatterns` are the project-level pages, meant to live under /projects/:
the root urlconf mounts them with
    path("projects/", include((pdsa_urls.project_urlpatterns, "pdsa_project"))),
giving /projects/<id>/pdsa/ ("pdsa_project:timeline") and /projects/<id>/pdsa/new/
("pdsa_project:new"). Until then the same views answer at /pdsa/project/<id>/.
"""

from django.urls import path

from pdsa import views

app_name = "pdsa"

urlpatterns = [
    path("mine/", views.my_cycles, name="mine"),
    path("new/", views.cycle_new, name="new"),
    path("quick/", views.quick_log, name="quick"),
    path("project/<int:project_pk>/", views.project_timeline, name="project_timeline"),
    path("project/<int:project_pk>/new/", views.cycle_new, name="project_new"),
    path("<int:pk>/", views.cycle_detail, name="detail"),
    path("<int:pk>/<slug:stage>/", views.cycle_stage, name="stage"),
]

project_urlpatterns = [
    path("<int:project_pk>/pdsa/", views.project_timeline, name="timeline"),
    path("<int:project_pk>/pdsa/new/", views.cycle_new, name="new"),
]
