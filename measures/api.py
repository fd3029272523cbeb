"""REST API for measures and data points.

Reads are scoped with `organisations.access.projects_visible_to` (an outsider's object is
simply not there: 404); writes go through measures.services, which ask `has_permission`
(a member without the right gets 403). Data rows are checked by
measures.imports.validate_rows, the same rules as the grid and uploads; a bad row answers
400 with every problem as {"row", "column", "message"} and nothing is saved.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from core import exports
from core.api import ErrorSerializer, SyncMixin, ValidationErrorSerializer
from core.pagination import KeysetPagination
from measures import bulk, imports, services, snapshots
from measures.imports import RowsInvalid
from measures.models import DataPoint, Measure
from organisations.access import Permission
from projects import selectors as project_selectors
from projects.api import ServiceWrites, visible_project


class RowsRejected(APIException):
    """400 listing every bad row as {"row": int|None, "column": str|None, "message": str}.

    Not a ValidationError: that would turn the row numbers into strings.
    """

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, errors):
        self.detail = {"errors": [e.as_dict() for e in errors]}


def _rows_errors(exc: RowsInvalid) -> APIException:
    return RowsRejected(exc.errors)


class _Write(ServiceWrites):
    """Service errors become 400s; rejected data rows keep their row numbers."""

    def _call(self, fn, **kwargs):
        try:
            return super()._call(fn, **kwargs)
        except RowsInvalid as exc:
            raise _rows_errors(exc) from exc
        except services.DataConflict as exc:
            raise DataConflictError(exc) from exc


# ---- measures -------------------------------------------------------------------------------


class MeasureSerializer(serializers.ModelSerializer):
    variation_icon = serializers.SerializerMethodField()
    assurance = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = ["id", "project", "name", "kind", "definition", "unit_label", "frequency",
                  "chart", "rate_per", "direction", "target", "driver", "position",
                  "data_version",
                  "variation_icon", "assurance"]
        read_only_fields = ["position", "data_version", "variation_icon", "assurance"]

    def _snap(self, obj):
        try:
            return obj.snapshot
        except Measure.snapshot.RelatedObjectDoesNotExist:
            return None

    def get_variation_icon(self, obj) -> str:
        snap = self._snap(obj)
        return snap.variation_icon if snap else ""

    def get_assurance(self, obj) -> str:
        snap = self._snap(obj)
        return snap.assurance if snap else ""


class MeasureUpdateSerializer(MeasureSerializer):
    class Meta(MeasureSerializer.Meta):
        read_only_fields = ["project", "position", "data_version", "variation_icon",
                            "assurance"]


class DataRowSerializer(serializers.Serializer):
    """One data point as sent to the API. Values are checked by the shared data rules."""

    period = serializers.CharField(help_text="YYYY-MM-DD, the start of the period.")
    value = serializers.FloatField(required=False, allow_null=True)
    numerator = serializers.FloatField(required=False, allow_null=True)
    denominator = serializers.FloatField(required=False, allow_null=True)
    annotation = serializers.CharField(required=False, allow_blank=True, max_length=400)
    rebaseline = serializers.BooleanField(required=False, default=False)


BulkRequest = inline_serializer("DataPointBulkRequest", fields={
    "points": DataRowSerializer(many=True),
    "base_version": serializers.IntegerField(
        required=False, min_value=0,
        help_text="The measure's `data_version` you read. Needed to replace a period's "
                  "saved values; if someone changed them after this version → 409."),
    "on_existing": serializers.ChoiceField(
        choices=list(services.ON_EXISTING), required=False, default="update",
        help_text="`update`: replace saved values (with base_version); `reject`: a period "
                  "that already has a point is an error of its row."),
})
BulkResponse = inline_serializer("DataPointBulkResponse", fields={
    "created": serializers.IntegerField(), "updated": serializers.IntegerField(),
})
class DataConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    data_version = serializers.IntegerField(help_text="Base a retry on this version.")
    current = serializers.ListField(child=serializers.DictField(),
                                    help_text="The conflicting points as saved now.")


class DataConflictError(APIException):
    """409: the write would overwrite someone else's change. Nothing was saved."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"

    def __init__(self, exc: services.DataConflict):
        self.detail = {
            "detail": exc.message,
            "data_version": exc.data_version,
            "current": [DataPointSerializer(p).data for p in exc.points if p.pk],
        }


RowErrors = inline_serializer("DataRowErrors", fields={
    "errors": inline_serializer("DataRowError", many=True, fields={
        "row": serializers.IntegerField(allow_null=True),
        "column": serializers.CharField(allow_null=True),
        "message": serializers.CharField(),
    }),
})
# A 400 lists bad data rows by row and column, or (a malformed request) messages per field.
RowErrors = PolymorphicProxySerializer(
    component_name="DataRowOrFieldErrors",
    serializers=[RowErrors, ValidationErrorSerializer],
    resource_type_field_name=None,
)


def data_export_table(measure: Measure):
    """(header, rows) of a measure's data in the upload template's columns, one query."""
    columns = imports.columns_for(measure)
    fields = [c for c in columns if c != "period"]

    def rows():
        for p in measure.points.order_by("period").iterator(chunk_size=2000):
            line = [p.period]
            for name in fields:
                value = getattr(p, name)
                if name == "rebaseline":
                    value = "yes" if value else "no"
                line.append("" if value is None else value)
            yield line

    return columns, rows()


@extend_schema_view(
    list=extend_schema(summary="Measures of the projects you can see",
                       description="Filter with ?project=<id>, ?kind=, ?chart=."),
    update=extend_schema(request=MeasureUpdateSerializer),
    partial_update=extend_schema(request=MeasureUpdateSerializer),
)
class MeasureViewSet(SyncMixin, _Write, viewsets.ModelViewSet):
    """Measures of the projects you can see, with the icons of their latest SPC reading."""

    serializer_class = MeasureSerializer
    pagination_class = KeysetPagination  # (updated_at, id) pages, no whole-list count
    filterset_fields = ["project", "kind", "chart"]

    def get_queryset(self):
        return (
            Measure.objects.filter(project__in=project_selectors.visible_projects(self.request.user))
            .select_related("snapshot", "project").order_by("project_id", "position", "id")
        )

    def create(self, request, *args, **kwargs):
        s = MeasureSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        project = visible_project(request, data.pop("project").pk, Permission.PROJECT_EDIT)
        return self._answer(MeasureSerializer, services.measure_create, status.HTTP_201_CREATED,
                            project=project, by=request.user, **data)

    def update(self, request, *args, **kwargs):
        measure = self.get_object()
        s = MeasureUpdateSerializer(measure, data=request.data,
                                    partial=kwargs.get("partial", False))
        s.is_valid(raise_exception=True)
        fresh = Measure.objects.get(pk=measure.pk)
        return self._answer(MeasureSerializer, services.measure_update, measure=fresh,
                            by=request.user, **s.validated_data)

    def destroy(self, request, *args, **kwargs):
        self._call(services.measure_delete, measure=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={200: inline_serializer("MeasureSPC", fields={
            "n_points": serializers.IntegerField(),
            "latest_period": serializers.DateField(allow_null=True),
            "latest_value": serializers.FloatField(
                allow_null=True, help_text="What the chart plots at its latest point (a P "
                "chart's proportion, a T chart's days)."),
            "variation_icon": serializers.CharField(),
            "assurance": serializers.CharField(),
            "computed_at": serializers.DateTimeField(allow_null=True),
            "stale": serializers.BooleanField(),
            "result": serializers.JSONField(help_text="The whole chart: phases, and each "
                                            "point's value, centre line, limits and type, "
                                            "computed from the data when asked."),
        })},
        summary="The measure's latest SPC reading",
        description="Icons, latest value and counts from the last rebuild; the chart in "
                    "`result` from the data as it is now. `stale` is true while a rebuild "
                    "after a data change is pending (the icons may then be older than "
                    "`result`).",
    )
    @action(detail=True, methods=["get"])
    def spc(self, request, pk=None, format=None):
        measure = self.get_object()
        snap = MeasureSerializer()._snap(measure)
        return Response({
            "n_points": snap.n_points if snap else 0,
            "latest_period": snap.latest_period if snap else None,
            "latest_value": snap.latest_value if snap else None,
            "variation_icon": snap.variation_icon if snap else "",
            "assurance": snap.assurance if snap else "",
            "computed_at": snap.computed_at if snap else None,
            "stale": measure.dirty_since is not None or snap is None,
            "result": snapshots.full_result(measure),
        })

    @extend_schema(
        request={"application/json": BulkRequest, "text/csv": OpenApiTypes.STR},
        parameters=[
            OpenApiParameter(bulk.KEY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER,
                             description="Any unique string (a UUID). A retry with the same "
                                         "key and body within 24 hours replays the first "
                                         "answer and changes nothing."),
            OpenApiParameter("base_version", OpenApiTypes.INT, description="For CSV bodies "
                             "(JSON bodies may send it in the object)."),
            OpenApiParameter("on_existing", OpenApiTypes.STR, enum=list(services.ON_EXISTING),
                             description="For CSV bodies: `update` (default) or `reject`."),
        ],
        responses={
            200: BulkResponse, 400: RowErrors, 409: DataConflictSerializer,
            413: OpenApiResponse(ErrorSerializer, description="More than "
                                 f"{services.BULK_MAX_POINTS:,} points, or a body too large."),
            422: OpenApiResponse(ErrorSerializer, description="The Idempotency-Key was used "
                                 "for a different request in the last 24 hours."),
        },
        summary="Add or update many data points at once (all or nothing)",
        description=(
            f"Up to {services.BULK_MAX_POINTS:,} points as JSON "
            '(`{"points": [{"period", "value" | "numerator"+"denominator", "note", '
            '"rebaseline"}], "base_version", "on_existing"}`) or as a CSV body '
            "(`Content-Type: text/csv`, the upload template's columns). New periods are "
            "added. A period the measure already has is updated when you send `base_version` "
            "(the measure's `data_version` you read) and nobody changed that period after it; "
            "otherwise → 409 with the points as saved now, and nothing is saved; "
            "`on_existing=reject` refuses such periods instead (400). Sending values equal "
            "to the saved ones changes nothing. Any invalid point → 400 listing every "
            "problem by row (1-based position in `points`, or the CSV line) and column; "
            "nothing is saved. Same rules as file uploads. One history row per point, one "
            "`data_version` bump and one SPC refresh per call."
        ),
    )
    @action(detail=True, methods=["post"], url_path="data-points", url_name="bulk-data-points",
            parser_classes=[JSONParser, bulk.CSVBodyParser])
    def bulk_data_points(self, request, pk=None, format=None):
        measure = self.get_object()
        key = bulk.idempotency_key(request)
        data = bulk.body_of(request)
        if key is None:
            return Response(self._bulk(request, measure))
        caller, digest = bulk.caller_of(request), bulk.request_digest(request, data)
        try:
            with transaction.atomic():
                stored = services.idempotency_lookup(caller=caller, key=key)
                if stored is not None:
                    if stored.request_hash != digest:
                        raise bulk.IdempotencyKeyReused
                    return Response(stored.response_body, status=stored.status_code,
                                    headers={"Idempotent-Replayed": "true"})
                body = self._bulk(request, measure)
                services.idempotency_record(caller=caller, key=key, request_hash=digest,
                                            status_code=200, body=body)
        except IntegrityError as exc:  # the same key, at the same moment, in another call
            raise bulk.IdempotencyKeyBusy from exc
        return Response(body)

    @extend_schema(
        parameters=[exports.FORMAT_PARAMETER],
        responses={(200, "text/csv"): OpenApiTypes.BINARY,
                   (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY},
        summary="The measure's data as a CSV or Excel file",
        description="Every data point, oldest first, in the upload template's columns (so "
                    "the file can be edited and uploaded or POSTed back). Text that starts "
                    "like a spreadsheet formula is written with a leading apostrophe.",
    )
    @action(detail=True, methods=["get"], url_path=r"export/(?P<fmt>csv|xlsx)",
            url_name="export", renderer_classes=exports.EXPORT_RENDERERS)
    def export(self, request, pk=None, fmt=None, format=None):
        measure = self.get_object()
        header, rows = data_export_table(measure)
        return exports.download(fmt, header, rows, filename=f"{slugify(measure.name)}-data",
                                sheet="Data")

    def _bulk(self, request, measure) -> dict:
        try:
            rows, base, on_existing = bulk.parse_bulk_input(request)
            bulk.check_required_columns(measure, rows, isinstance(request.data, str))
        except RowsInvalid as exc:
            raise _rows_errors(exc) from exc
        with transaction.atomic():
            summary = self._call(services.data_points_bulk_ingest, measure=measure,
                                 rows=rows, by=request.user, base_version=base,
                                 on_existing=on_existing)
        return {"created": summary.created, "updated": summary.updated}


# ---- data points --------------------------------------------------------------------------


class DataPointSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataPoint
        fields = ["id", "measure", "period", "value", "numerator", "denominator",
                  "annotation", "rebaseline", "version"]
        read_only_fields = ["version"]


class DataPointCreateSerializer(DataRowSerializer):
    measure = serializers.PrimaryKeyRelatedField(queryset=Measure.objects.all())


class DataPointUpdateSerializer(DataRowSerializer):
    period = serializers.CharField(required=False)
    rebaseline = serializers.BooleanField(required=False)
    version = serializers.IntegerField(
        min_value=0, help_text="The point's version you read. A stale version gets 409.")


@extend_schema_view(
    list=extend_schema(summary="Data points of the measures you can see",
                       description="Filter with ?measure=<id> or ?project=<id>."),
    create=extend_schema(request=DataPointCreateSerializer,
                         responses={201: DataPointSerializer, 400: RowErrors}),
    update=extend_schema(request=DataPointUpdateSerializer,
                         responses={200: DataPointSerializer, 400: RowErrors,
                                    409: DataConflictSerializer},
                         summary="Change a data point (send its `version`)"),
    partial_update=extend_schema(request=DataPointUpdateSerializer,
                                 responses={200: DataPointSerializer, 400: RowErrors,
                                            409: DataConflictSerializer},
                                 summary="Change a data point (send its `version`)"),
)
class DataPointViewSet(SyncMixin, _Write, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.CreateModelMixin, mixins.UpdateModelMixin,
                       mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Dated data points of the measures you can see. Writes follow the same rules as the
    data grid and uploads."""

    serializer_class = DataPointSerializer
    pagination_class = KeysetPagination  # (updated_at, id) pages, no whole-list count
    filterset_fields = ["measure"]

    def get_queryset(self):
        qs = DataPoint.objects.filter(
            measure__project__in=project_selectors.visible_projects(self.request.user)
        ).order_by("measure_id", "period")
        project = self.request.query_params.get("project")
        if project:
            if not project.isdigit():
                raise ValidationError({"project": "Give a project id (a whole number)."})
            qs = qs.filter(measure__project_id=int(project))
        return qs

    def create(self, request, *args, **kwargs):
        s = DataPointCreateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        measure = data.pop("measure")
        visible_project(request, measure.project_id, Permission.DATA_ENTER)
        return self._answer(DataPointSerializer, services.data_point_create,
                            status.HTTP_201_CREATED, measure=measure, by=request.user, **data)

    def update(self, request, *args, **kwargs):
        point = self.get_object()
        visible_project(request, point.measure.project_id, Permission.DATA_ENTER)  # 403 first
        s = DataPointUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        if "version" not in data:
            raise ValidationError({"version": ["Send the version of the point you read."]})
        return self._answer(DataPointSerializer, services.data_point_update, point=point,
                            by=request.user, expected_version=data.pop("version"), **data)

    def destroy(self, request, *args, **kwargs):
        self._call(services.data_point_delete, point=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router):
    router.register("measures", MeasureViewSet, basename="measure")
    router.register("data-points", DataPointViewSet, basename="data-point")
