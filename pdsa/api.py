"""REST API for PDSA cycles at /api/v1/pdsa-cycles/. Thin: the same selectors (access
scopes), services (access checks, patient-data screen, optimistic locking) as the pages.

- GET list (paginated; filter by project, change_idea, status, date_from/date_to on the
  planned start), GET one, POST to create, PATCH to change (must send `version`).
- PATCH with a stale `version` answers 409 Conflict with the current saved cycle.
- Outsiders get 404; members who may read but not edit get 403.
"""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import IdFilter, SyncMixin
from core.pagination import KeysetPagination
from core.screening import no_patient_identifiers
from measures.models import Measure
from organisations import access
from organisations.access import Permission
from pdsa import selectors, services
from pdsa.models import Cycle
from projects import selectors as project_selectors
from projects.models import ChangeIdea

# The worksheet, stage by stage, in the order the services define it.
WORKSHEET_FIELDS = [f for stage in services.STAGES for f in services.STAGE_FIELDS[stage]]


class QualitySerializer(serializers.Serializer):
    prediction = serializers.BooleanField()
    data_linked = serializers.BooleanField()
    study_compares = serializers.BooleanField()
    ramp = serializers.BooleanField()


class CycleSerializer(serializers.ModelSerializer):
    """A PDSA cycle as stored. `status` is derived from the stages filled in."""

    project = serializers.IntegerField(source="change_idea.project_id", read_only=True)
    measures = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    quality = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.get_full_name", read_only=True)
    # Declared so the schema's enum includes "" (no decision yet); a read-only model field
    # would lose allow_blank.
    decision = serializers.ChoiceField(choices=Cycle.Decision.choices, allow_blank=True,
                                       read_only=True)

    class Meta:
        model = Cycle
        fields = [
            "id",
            "project",
            "change_idea",
            "number",
            "follows",
            *WORKSHEET_FIELDS,
            "status",
            "version",
            "quality",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(QualitySerializer)
    def get_quality(self, obj) -> dict:
        return obj.quality_features()


class _WorksheetInput(serializers.ModelSerializer):
    """Worksheet fields, screened for patient-identifiable data."""

    measures = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Measure.objects.none(), required=False
    )

    def get_fields(self):
        fields = super().get_fields()
        user = self.context["request"].user
        visible = project_selectors.visible_projects(user)
        fields["measures"].child_relation.queryset = Measure.objects.filter(project__in=visible)
        for field in fields.values():
            if isinstance(field, serializers.CharField) and not isinstance(
                field, serializers.ChoiceField
            ):
                if no_patient_identifiers not in field.validators:
                    field.validators.append(no_patient_identifiers)
        return fields


class CycleCreateSerializer(_WorksheetInput):
    change_idea = serializers.PrimaryKeyRelatedField(queryset=ChangeIdea.objects.none())
    follows = serializers.PrimaryKeyRelatedField(
        queryset=Cycle.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Cycle
        fields = ["change_idea", "follows", *WORKSHEET_FIELDS]

    def get_fields(self):
        fields = super().get_fields()
        visible = project_selectors.visible_projects(self.context["request"].user)
        fields["change_idea"].queryset = ChangeIdea.objects.filter(project__in=visible)
        fields["follows"].queryset = Cycle.objects.filter(change_idea__project__in=visible)
        return fields


class CycleUpdateSerializer(_WorksheetInput):
    version = serializers.IntegerField(
        min_value=1, help_text="The version you read. A stale version gets 409 Conflict."
    )

    class Meta:
        model = Cycle
        fields = ["version", *WORKSHEET_FIELDS]
        extra_kwargs = {name: {"required": False} for name in WORKSHEET_FIELDS}


class CycleFilter(django_filters.FilterSet):
    project = IdFilter(field_name="change_idea__project")
    change_idea = IdFilter(field_name="change_idea")
    status = django_filters.ChoiceFilter(choices=Cycle.Status.choices)
    date_from = django_filters.DateFilter(
        field_name="planned_start", lookup_expr="gte", label="Planned start on or after"
    )
    date_to = django_filters.DateFilter(
        field_name="planned_start", lookup_expr="lte", label="Planned start on or before"
    )

    class Meta:
        model = Cycle
        fields = ["project", "change_idea", "status", "date_from", "date_to"]


def _as_drf_error(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "error_dict"):
        return serializers.ValidationError(
            {field: [m for e in errors for m in e.messages] for field, errors in
             exc.error_dict.items()}
        )
    return serializers.ValidationError({"non_field_errors": exc.messages})


CONFLICT_RESPONSE = OpenApiResponse(
    response=inline_serializer(
        "PdsaCycleConflict",
        fields={"detail": serializers.CharField(), "current": CycleSerializer()},
    ),
    description="Someone saved the cycle after the version you sent. `current` is what is "
    "saved now; nothing of yours was saved.",
)


@extend_schema_view(
    list=extend_schema(summary="List PDSA cycles you may see"),
    retrieve=extend_schema(summary="One PDSA cycle"),
    create=extend_schema(
        summary="Start a PDSA cycle",
        request=CycleCreateSerializer,
        responses={201: CycleSerializer},
        description="Free text is screened: NHS numbers and dates of birth are refused "
        "(400) and nothing is saved.",
    ),
    partial_update=extend_schema(
        summary="Change a PDSA cycle (send `version`)",
        request=CycleUpdateSerializer,
        responses={200: CycleSerializer, 409: CONFLICT_RESPONSE},
    ),
)
class CycleViewSet(
    SyncMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """PDSA cycles (IHI worksheet: plan, do, study, act) on projects you may see."""

    serializer_class = CycleSerializer
    filterset_class = CycleFilter
    pagination_class = KeysetPagination  # (updated_at, id) pages, no whole-list count
    newest_first = True  # most recently changed first, as before (core/pagination.py)
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return (
            selectors.cycles_visible_to(self.request.user)
            .prefetch_related("measures")
            .order_by("-updated_at", "-pk")
        )

    def create(self, request, *args, **kwargs):
        serializer = CycleCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        change_idea = data.pop("change_idea")
        access.check(request.user, Permission.PDSA_EDIT, project=change_idea.project)
        follows = data.pop("follows", None)
        try:
            cycle = services.cycle_create(
                change_idea=change_idea, follows=follows, by=request.user, **data
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        # Answer from what was committed (no re-read that a dropped connection could fail).
        return Response(CycleSerializer(cycle).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        cycle = self.get_object()
        access.check(request.user, Permission.PDSA_EDIT, project=cycle.change_idea.project)
        serializer = CycleUpdateSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "version" not in data:
            raise serializers.ValidationError(
                {"version": ["Send the version of the cycle you read."]}
            )
        version = data.pop("version")
        try:
            saved = services.cycle_update(
                cycle=cycle, data=data, expected_version=version, by=request.user
            )
        except services.ConflictError as exc:
            current = self.get_queryset().get(pk=exc.current.pk)
            return Response(
                {
                    "detail": "Someone saved this cycle after the version you sent "
                    f"({version}); it is now at version {current.version}. Nothing was "
                    "saved. Compare with the current values and send again.",
                    "current": CycleSerializer(current).data,
                },
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise _as_drf_error(exc) from exc
        return Response(CycleSerializer(saved).data)  # what was committed, not a re-read


def register(router):
    router.register("pdsa-cycles", CycleViewSet, basename="pdsa-cycle")
