from django.urls import path

from reports import views
from reports.views import capability as capability_views
from reports.views import compare
from reports.views import learning as learning_views

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
    # The national centre's home and QI capability (reports/views/capability.py).
    path("national/", capability_views.national_home, name="national"),
    path("national/activity.<str:fmt>", capability_views.national_activity_export,
         name="national_activity_export"),
    path("national/capability/", capability_views.national_capability,
         name="national_capability"),
    path("national/capability/levels/", capability_views.capability_levels,
         name="capability_levels"),
    path("trusts/<str:ods_code>/capability/", capability_views.trust_capability,
         name="trust_capability"),
    path("trusts/<str:ods_code>/capability/record/", capability_views.trust_capability_record,
         name="trust_capability_record"),
    path("trusts/<str:ods_code>/capability/upload/", capability_views.trust_capability_upload,
         name="trust_capability_upload"),
    path("trusts/<str:ods_code>/capability/template.csv",
         capability_views.trust_capability_template, name="trust_capability_template"),
    path("trusts/<str:ods_code>/capability/impact/", capability_views.trust_impact_record,
         name="trust_impact_record"),
    # The learning repository (reports/views/learning.py).
    path("national/learning/", learning_views.learning_search, name="learning"),
    path("national/learning/case-studies/new/", learning_views.case_study_create,
         name="case_study_create"),
    # Comparing trusts on shared measures (reports/views/compare.py).
    path("compare/", compare.compare, name="compare"),
    path("compare/<str:kind>/<int:object_id>/", compare.compare_measure,
         name="compare_measure"),
    path("compare/definitions/", compare.national_measures, name="national_measures"),
    path("compare/definitions/new/", compare.national_measure_edit,
         name="national_measure_create"),
    path("compare/definitions/<int:pk>/edit/", compare.national_measure_edit,
         name="national_measure_edit"),
    path("compare/definitions/<int:pk>/adopt/", compare.national_measure_adopt,
         name="national_measure_adopt"),
    path("compare/setting/", compare.comparison_setting, name="comparison_setting"),
]

# Mounted in the "projects" namespace under /projects/ by qi_portal/urls.py.
project_urlpatterns = [
    path("<int:pk>/", views.project_detail, name="detail"),
    path("<int:pk>/progress/", views.project_progress, name="progress"),
    path("<int:pk>/history/", views.project_history, name="history"),
    path("<int:pk>/measures/<int:mid>/", views.measure_detail, name="measure_detail"),
]
