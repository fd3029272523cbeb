"""The root urlconf plus the project-level PDSA pages at /projects/<id>/pdsa/, as the lead
will mount them (see pdsa/urls.py). Used with @pytest.mark.urls; once the root urlconf
mounts them itself this adds nothing."""

from django.urls import include, path

from pdsa import urls as pdsa_urls
from qi_portal.urls import urlpatterns as root_urlpatterns

_mounted = any(getattr(p, "namespace", None) == "pdsa_project" for p in root_urlpatterns)

urlpatterns = [
    *(
        []
        if _mounted
        else [path("projects/", include((pdsa_urls.project_urlpatterns, "pdsa_project")))]
    ),
    *root_urlpatterns,
]
