"""REST API for reports. Endpoints register on the one /api/v1/ router."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from core import exports
from core.api import SyncMixin
from organisations import access
from organisations.access import Permission
from organisations.models import Trust
from reports import exports as report_exports
from reports import selectors


class MeasuresMatrixViewSet(SyncMixin, viewsets.GenericViewSet):
    """A trust's measures matrix (the dashboard's table) as a file."""

    queryset = Trust.objects.none()

    @extend_schema(
        parameters=[
            OpenApiParameter("ods_code", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="Trust ODS code, e.g. RWK."),
            exports.FORMAT_PARAMETER,
            OpenApiParameter("unit", OpenApiTypes.INT, description="Only this unit's subtree."),
            OpenApiParameter("show", OpenApiTypes.STR, enum=list(selectors.MATRIX_SHOW),
                             description="Only measures with this reading."),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.MATRIX_SORTS)),
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY,
                   (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY},
        summary="A trust's measures matrix as a CSV or Excel file",
        description="Every measure of the trust's projects you can see with its latest SPC "
                    "reading (the trust dashboard's table, all rows), with the page's `show` "
                    "and `sort`. Needs the trust dashboard permission. Formula-looking text "
                    "is written with a leading apostrophe.",
    )
    @action(detail=False, methods=["get"], url_path=r"export/(?P<fmt>csv|xlsx)",
            url_name="export", renderer_classes=exports.EXPORT_RENDERERS)
    def export(self, request, ods_code=None, fmt=None, format=None):
        trust = get_object_or_404(Trust, ods_code=str(ods_code).upper())
        access.check(request.user, Permission.TRUST_DASHBOARD_VIEW, trust=trust)
        unit = request.query_params.get("unit")
        if unit not in (None, "") and not (unit.isdigit() and len(unit) < 19):
            raise ValidationError({"unit": ["Give a unit id (a whole number)."]})
        # The page falls back to its defaults on unknown values; an API client is told.
        show = request.query_params.get("show", "")
        sort = request.query_params.get("sort", "project")
        errors = {}
        if show not in selectors.MATRIX_SHOW:
            errors["show"] = [f"Use one of: {', '.join(k for k in selectors.MATRIX_SHOW if k)}."]
        if sort not in selectors.MATRIX_SORTS:
            errors["sort"] = [f"Use one of: {', '.join(selectors.MATRIX_SORTS)}."]
        if errors:
            raise ValidationError(errors)
        filename, rows = report_exports.measures_matrix_table(
            request, trust, unit_id=int(unit) if unit else None, show=show, sort=sort)
        return exports.download(fmt, report_exports.MATRIX_HEADER, rows, filename=filename,
                                sheet="Measures")


def register(router):
    router.register(r"trusts/(?P<ods_code>[A-Za-z0-9]+)/measures-matrix",
                    MeasuresMatrixViewSet, basename="trust-measures-matrix")
