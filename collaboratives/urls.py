"""Collaborative pages, mounted at /collaboratives/ (namespace "collaboratives")."""

from django.urls import path

from collaboratives import views

app_name = "collaboratives"

urlpatterns = [
    path("", views.collaborative_list, name="list"),
    path("new/", views.collaborative_create, name="create"),
    path("<int:pk>/", views.collaborative_detail, name="detail"),
    path("<int:pk>/edit/", views.collaborative_edit, name="edit"),
    path("<int:pk>/facilitators/", views.facilitator_add, name="facilitator_add"),
    path("<int:pk>/sessions/new/", views.session_create, name="session_create"),
    path("<int:pk>/sessions/<int:sid>/edit/", views.session_edit, name="session_edit"),
    path("<int:pk>/invite/", views.trust_invite, name="invite"),
    path("<int:pk>/trusts/<int:part_id>/answer/", views.invitation_respond, name="respond"),
    path("<int:pk>/enrol/", views.enrol, name="enrol"),
    path("<int:pk>/teams/<int:eid>/", views.team_detail, name="team"),
    path("<int:pk>/teams/<int:eid>/decide/", views.enrolment_decide, name="decide"),
    path("<int:pk>/teams/<int:eid>/leave/", views.team_leave, name="leave"),
    path("<int:pk>/teams/<int:eid>/adopt/<int:smid>/", views.team_adopt, name="adopt"),
    path("<int:pk>/teams/<int:eid>/follow/<int:aid>/", views.team_follow, name="follow"),
    path("<int:pk>/teams/<int:eid>/report/", views.team_report, name="report"),
    path("<int:pk>/reports/<int:rid>/assess/", views.report_assess, name="assess"),
    path("<int:pk>/measures/new/", views.shared_measure_create, name="shared_measure_create"),
    path("<int:pk>/measures/<int:smid>/", views.shared_measure_detail, name="shared_measure"),
    path("<int:pk>/measures/<int:smid>/edit/", views.shared_measure_edit,
         name="shared_measure_edit"),
    path("<int:pk>/dashboard/", views.dashboard_page, name="dashboard"),
    path("<int:pk>/dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("<int:pk>/dashboard.xlsx", views.dashboard_xlsx, name="dashboard_xlsx"),
    path("<int:pk>/change-package/", views.change_package, name="change_package"),
    path("<int:pk>/change-package/new/", views.package_idea_create, name="package_idea_create"),
    path("<int:pk>/teams/<int:eid>/link/", views.package_link, name="package_link"),
    path("<int:pk>/learning/", views.feed, name="feed"),
    path("<int:pk>/learning/new/", views.post_create, name="post_create"),
    path("<int:pk>/learning/<int:post_id>/", views.post_detail, name="post"),
]
