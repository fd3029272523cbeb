from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import routers

from collaboratives import api as collaboratives_api
from core import api as core_api
from measures import api as measures_api
from measures import urls as measures_urls
from organisations import api as organisations_api
from organisations import urls as organisations_urls
from organisations import views as organisations_views
from pdsa import api as pdsa_api
from pdsa import urls as pdsa_urls
from projects import api as projects_api
from projects import urls as projects_urls
from reports import api as reports_api
from reports import urls as reports_urls

router = routers.DefaultRouter()
router.register("trusts", organisations_api.TrustViewSet, basename="trust")
router.register("units", organisations_api.UnitViewSet, basename="unit")
# Each app adds its endpoints to the one router, so /api/v1/ lists everything.
for api in (projects_api, measures_api, pdsa_api, collaboratives_api, reports_api):
    api.register(router)

# /projects/…: one "projects" namespace from three layers. The register and the driver
# diagram (projects), the measure pages (measures), and the pages that combine layers:
# the project page, the measure page and the progress score (reports).
project_pages = (
    projects_urls.urlpatterns + measures_urls.urlpatterns + reports_urls.project_urlpatterns,
    "projects",
)

urlpatterns = [
    path("", organisations_views.home, name="home"),
    path("healthz", organisations_views.healthz, name="healthz"),
    path("accounts/", include("organisations.urls")),
    # Single sign-on (organisations/oidc.py): 404 unless OIDC_* settings switch it on.
    path("accounts/oidc/", include("mozilla_django_oidc.urls")),
    path("projects/", include(project_pages)),
    # /projects/<id>/pdsa/… — the PDSA timeline and new-cycle pages of a project.
    path("projects/", include((pdsa_urls.project_urlpatterns, "pdsa_project"))),
    path("pdsa/", include("pdsa.urls")),
    path("collaboratives/", include("collaboratives.urls")),
    # /trusts/<ods>/people/, /units/, /audit/: a trust administrator's pages.
    path("", include((organisations_urls.trust_urlpatterns, "trust_admin"))),
    path("", include("reports.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    # Any other /api/ address: a JSON 404, like the endpoints' own (core/api.py).
    re_path(r"^api/", core_api.not_found),
]

admin.site.site_header = "QI Portal administration"
admin.site.site_title = "QI Portal admin"
