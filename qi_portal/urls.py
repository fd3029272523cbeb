from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

from organisations import api as organisations_api
from organisations import views as organisations_views
from pdsa import urls as pdsa_urls

router = routers.DefaultRouter()
router.register("trusts", organisations_api.TrustViewSet, basename="trust")
router.register("units", organisations_api.UnitViewSet, basename="unit")

# Each app adds its endpoints to the one router, so /api/v1/ lists everything.
API_MODULES = (
    "projects.api",
    "projects.measure_api",
    "pdsa.api",
    "collaboratives.api",
    "reports.api",
)
for module_name in API_MODULES:
    module = __import__(module_name, fromlist=["register"])
    if hasattr(module, "register"):
        module.register(router)

urlpatterns = [
    path("", organisations_views.home, name="home"),
    path("healthz", organisations_views.healthz, name="healthz"),
    path("accounts/", include("organisations.urls")),
    path("projects/", include("projects.urls")),
    # /projects/<id>/pdsa/… — the PDSA timeline and new-cycle pages of a project.
    path("projects/", include((pdsa_urls.project_urlpatterns, "pdsa_project"))),
    path("pdsa/", include("pdsa.urls")),
    path("", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

admin.site.site_header = "QI Portal administration"
admin.site.site_title = "QI Portal admin"
