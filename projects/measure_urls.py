"""URLs for driver diagrams, measures and data (owned by the measures slice).

Included inside the `projects` namespace by projects/urls.py: reverse as
"projects:measure_detail" etc. No app_name here on purpose.
"""

from django.urls import path

from projects import measure_views as views

urlpatterns = [
    path("<int:pk>/driver-diagram/", views.diagram_edit, name="diagram"),
    path("<int:pk>/driver-diagram.svg", views.diagram_svg, name="diagram_svg"),
    path("<int:pk>/driver-diagram.png", views.diagram_png, name="diagram_png"),
    path("<int:pk>/driver-diagram/drivers/<int:did>/edit/", views.driver_edit,
         name="driver_edit"),
    path("<int:pk>/driver-diagram/drivers/<int:did>/move/", views.driver_move,
         name="driver_move"),
    path("<int:pk>/driver-diagram/drivers/<int:did>/remove/", views.driver_remove,
         name="driver_remove"),
    path("<int:pk>/driver-diagram/change-ideas/<int:cid>/edit/", views.idea_edit,
         name="idea_edit"),
    path("<int:pk>/driver-diagram/change-ideas/<int:cid>/move/", views.idea_move,
         name="idea_move"),
    path("<int:pk>/driver-diagram/change-ideas/<int:cid>/remove/", views.idea_remove,
         name="idea_remove"),
    path("<int:pk>/measures/new/", views.measure_create, name="measure_create"),
    path("<int:pk>/measures/<int:mid>/", views.measure_detail, name="measure_detail"),
    path("<int:pk>/measures/<int:mid>/edit/", views.measure_edit, name="measure_edit"),
    path("<int:pk>/measures/<int:mid>/remove/", views.measure_remove, name="measure_remove"),
    path("<int:pk>/measures/<int:mid>/data/", views.measure_data, name="measure_data"),
    path("<int:pk>/measures/<int:mid>/upload/", views.measure_upload, name="measure_upload"),
    path("<int:pk>/measures/<int:mid>/template.<str:fmt>", views.measure_template,
         name="measure_template"),
]
