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
    path("trusts/<str:ods_code>/board-packs/", views.board_packs, name="board_packs"),
    path("trusts/<str:ods_code>/board-packs/<int:pack_id>/", views.board_pack,
         name="board_pack"),
    path("trusts/<str:ods_code>/board-packs/<int:pack_id>/print/", views.board_pack_print,
         name="board_pack_print"),
    path("trusts/<str:ods_code>/board-packs/<int:pack_id>/pdf/", views.board_pack_pdf,
         name="board_pack_pdf"),
    path("national/", views.national, name="national"),
]

# Mounted in the "projects" namespace under /projects/ by qi_portal/urls.py.
project_urlpatterns = [
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/progress/", views.project_progress, name="progress"),
    path("<int:pk>/history/", views.project_history, name="history"),
    path("<int:pk>/measures/<int:mid>/", views.measure_detail, name="measure_detail"),
]
