"""Project register and driver diagram pages under /projects/. qi_portal/urls.py mounts these
in the "projects" namespace together with the measure pages (measures.urls) and the project
and measure pages that combine layers (reports.urls.project_urlpatterns)."""

from django.urls import path

from projects.views import charter, diagram

urlpatterns = [
    path("", charter.project_list, name="list"),
    path("new/", charter.project_create, name="create"),
    path("similar/", charter.project_similar, name="similar"),
    path("<int:pk>/edit/", charter.project_edit, name="edit"),
    path("<int:pk>/status/", charter.project_status, name="status"),
    path("<int:pk>/team/", charter.project_team, name="team"),
    path("<int:pk>/team/<int:member_pk>/remove/", charter.project_team_remove,
         name="team_remove"),
    path("<int:pk>/driver-diagram/", diagram.diagram_edit, name="diagram"),
    path("<int:pk>/driver-diagram.svg", diagram.diagram_svg, name="diagram_svg"),
    path("<int:pk>/driver-diagram.png", diagram.diagram_png, name="diagram_png"),
    path("<int:pk>/driver-diagram/drivers/<int:did>/edit/", diagram.driver_edit,
         name="driver_edit"),
    path("<int:pk>/driver-diagram/drivers/<int:did>/move/", diagram.driver_move,
         name="driver_move"),
    path("<int:pk>/driver-diagram/drivers/<int:did>/remove/", diagram.driver_remove,
         name="driver_remove"),
    path("<int:pk>/driver-diagram/change-ideas/<int:cid>/edit/", diagram.idea_edit,
         name="idea_edit"),
    path("<int:pk>/driver-diagram/change-ideas/<int:cid>/move/", diagram.idea_move,
         name="idea_move"),
    path("<int:pk>/driver-diagram/change-ideas/<int:cid>/remove/", diagram.idea_remove,
         name="idea_remove"),
]
