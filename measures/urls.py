"""Measure pages under /projects/<id>/measures/. qi_portal/urls.py mounts these in the
"projects" namespace (reverse as "projects:measure_data"); the measure page itself,
"projects:measure_detail", is reports.views.measure_detail."""

from django.urls import path

from measures import views

urlpatterns = [
    path("<int:pk>/measures/new/", views.measure_create, name="measure_create"),
    path("<int:pk>/measures/<int:mid>/edit/", views.measure_edit, name="measure_edit"),
    path("<int:pk>/measures/<int:mid>/remove/", views.measure_remove, name="measure_remove"),
    path("<int:pk>/measures/<int:mid>/data/", views.measure_data, name="measure_data"),
    path("<int:pk>/measures/<int:mid>/upload/", views.measure_upload, name="measure_upload"),
    path("<int:pk>/measures/<int:mid>/template.<str:fmt>", views.measure_template,
         name="measure_template"),
]
