"""REST API for the project register: projects, their team and progress scores, and the
driver diagram (drivers and change ideas).

Thin like the views: serializers parse, `projects.selectors` reads (scoped by
`organisations.access`), `projects.services` writes and decides. Outsiders get 404, members
without the right 403; invalid input gets 400 with a message per field and saves nothing.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core import exports
from core.api import StrictCharField, SyncMixin, sync_filter
from organisations import access
from organisations.access import Permission
from organisations.models import Trust, Unit, User
from projects import forms, selectors, services
from projects.models import (
    PROGRESS_SCALE,
    ChangeIdea,
    Driver,
    ProgressScore,
    Project,
    QualityDimension,
    TeamMember,
)

# ---- output ------------------------------------------------------------------------------


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name"]


class UnitBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Unit
        fields = ["id", "name"]


class ProjectSerializer(serializers.ModelSerializer):
    trust = serializers.SlugRelatedField(slug_field="ods_code", read_only=True)
    unit = UnitBriefSerializer(read_only=True, allow_null=True)
    # Declared so the schema's enum includes "" (not chosen yet).
    quality_dimension = serializers.ChoiceField(choices=QualityDimension.choices,
                                                allow_blank=True, read_only=True)
    lead = PersonSerializer(read_only=True, allow_null=True)
    sponsor = PersonSerializer(read_only=True, allow_null=True)
    coach = PersonSerializer(read_only=True, allow_null=True)
    is_stale = serializers.BooleanField(
        read_only=True, help_text="The progress score is over 60 days old (or missing)."
    )
    web_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Project
        fields = [
            "id", "title", "trust", "unit", "problem", "aim", "scope", "lead", "sponsor",
            "coach", "start_date", "target_date", "quality_dimension", "strategic_theme",
            "patient_involvement", "visibility", "status", "stopped_reason", "progress_score",
            "progress_scored_on", "is_stale", "created_at", "updated_at", "web_url",
        ]
        read_only_fields = fields


class TeamMemberSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True, allow_null=True,
                            help_text="null for a named patient or carer partner.")

    class Meta:
        model = TeamMember
        fields = ["id", "user", "name", "role"]


class ProgressScoreSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    recorded_by = PersonSerializer(read_only=True)

    class Meta:
        model = ProgressScore
        fields = ["id", "score", "label", "scored_on", "comment", "recorded_by", "recorded_at"]


# ---- input -------------------------------------------------------------------------------


class ProjectUpdateSerializer(serializers.Serializer):
    """Charter fields. People and units by id; the service checks they belong to the trust."""

    title = serializers.CharField(max_length=200)
    problem = serializers.CharField(required=False, allow_blank=True)
    aim = serializers.CharField()
    scope = serializers.CharField(required=False, allow_blank=True)
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.all(), required=False, allow_null=True
    )
    lead = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, help_text="Defaults to you when creating."
    )
    sponsor = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    coach = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    start_date = serializers.DateField(required=False, allow_null=True)
    target_date = serializers.DateField(required=False, allow_null=True)
    quality_dimension = serializers.ChoiceField(
        choices=QualityDimension.choices, required=False, allow_blank=True
    )
    strategic_theme = serializers.CharField(max_length=100, required=False, allow_blank=True)
    patient_involvement = serializers.CharField(required=False, allow_blank=True)
    visibility = serializers.ChoiceField(choices=Project.Visibility.choices, required=False)


class ProjectCreateSerializer(ProjectUpdateSerializer):
    trust = serializers.SlugRelatedField(
        slug_field="ods_code", queryset=Trust.objects.all(), help_text="The trust's ODS code."
    )


class TransitionSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=Project.Status.choices)
    reason = StrictCharField(required=False, allow_blank=True, default="",
                             help_text="Required when stopping a project.")


class TeamMemberInputSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True
    )
    name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=TeamMember.Role.choices, default="member")


class ProgressScoreInputSerializer(serializers.Serializer):
    score = serializers.ChoiceField(choices=[(str(s), label) for s, label in PROGRESS_SCALE])
    scored_on = serializers.DateField()
    comment = StrictCharField(required=False, allow_blank=True, default="")


def _service(call, **kwargs):
    """Run a service; its ValidationError becomes a 400 with the same field messages."""
    try:
        return call(**kwargs)
    except DjangoValidationError as error:
        detail = error.message_dict if hasattr(error, "error_dict") else error.messages
        raise serializers.ValidationError(detail) from error


LIST_PARAMETERS = [
    OpenApiParameter("trust", OpenApiTypes.STR, description="Trust ODS code, e.g. RWK."),
    OpenApiParameter("unit", OpenApiTypes.INT, description="Unit id; includes its subtree."),
    OpenApiParameter("unit_name", OpenApiTypes.STR,
                     description="Part of a unit's name, resolved to one unit (400 if none or "
                                 "several match; add `trust` to narrow); includes its subtree."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Project.Status.values),
    OpenApiParameter("theme", OpenApiTypes.STR, description="Strategic theme (exact)."),
    OpenApiParameter("score", OpenApiTypes.STR, description="Latest progress score, e.g. 2.5."),
    OpenApiParameter("stale", OpenApiTypes.STR, enum=["yes", "no"]),
    OpenApiParameter("mine", OpenApiTypes.STR,
                     description="Only projects you lead, sponsor, coach or are on the team of: "
                                 "mine=1 (or true, yes, on); any other value means no."),
    OpenApiParameter("search", OpenApiTypes.STR, description="Words in the title or aim."),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.SORTS)),
]


PROJECT_EXPORT_HEADER = [
    "ID", "Title", "Trust", "Unit", "Status", "Progress score", "Scored on", "Stale", "Lead",
    "Sponsor", "Coach", "Start date", "Target date", "Quality dimension", "Strategic theme",
    "Aim", "Link",
]


def _project_row(request, p: Project) -> list:
    def name(user):
        return user.full_name if user else ""

    return [
        p.pk, p.title, p.trust.ods_code, p.unit.name if p.unit else "", p.get_status_display(),
        float(p.progress_score) if p.progress_score is not None else "",
        p.progress_scored_on or "", "yes" if p.is_stale else "no", name(p.lead),
        name(p.sponsor), name(p.coach), p.start_date or "", p.target_date or "",
        p.get_quality_dimension_display() if p.quality_dimension else "",
        p.strategic_theme, p.aim, request.build_absolute_uri(p.get_absolute_url()),
    ]


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS,
                       summary="Projects you can see, filtered and paginated"),
    retrieve=extend_schema(summary="One project (404 if you cannot see it)"),
    create=extend_schema(request=ProjectCreateSerializer, responses={201: ProjectSerializer},
                         summary="Register a project (it starts as proposed)"),
    update=extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer),
    partial_update=extend_schema(request=ProjectUpdateSerializer, responses=ProjectSerializer),
)
class ProjectViewSet(
    SyncMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Improvement projects. Status changes go through `transition`; the team and progress
    scores have their own endpoints under each project."""

    serializer_class = ProjectSerializer
    filter_backends: list = []

    def _base(self):
        return selectors.projects_visible_to(self.request.user).select_related(
            "sponsor", "coach"
        )

    def get_queryset(self):
        if self.action not in ("list", "export"):
            return self._base()
        form = forms.ProjectFilterForm(self.request.query_params, user=self.request.user)
        if not form.is_valid():
            raise serializers.ValidationError(
                {field: [e["message"] for e in errs]
                 for field, errs in form.errors.get_json_data().items()}
            )
        return selectors.project_list(self.request.user, **form.filters()).select_related(
            "sponsor", "coach"
        )

    def _write(self, call, code=status.HTTP_200_OK, **kwargs):
        """Run the service and read the answer in one transaction: the client hears what
        was committed, and a connection lost after the commit cannot turn a saved write
        into a 500 (and its retry into a duplicate)."""
        with transaction.atomic():
            project = _service(call, by=self.request.user, **kwargs)
            fresh = self._base().get(pk=project.pk)
            data = ProjectSerializer(fresh, context={"request": self.request}).data
        return Response(data, status=code)

    def create(self, request, *args, **kwargs):
        data = ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        trust = fields.pop("trust")
        return self._write(services.project_create, status.HTTP_201_CREATED, trust=trust,
                           **fields)

    def update(self, request, *args, **kwargs):
        project = self.get_object()
        partial = kwargs.get("partial", False)
        data = ProjectUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        return self._write(services.project_update, project=project, **data.validated_data)

    @extend_schema(
        parameters=[*LIST_PARAMETERS, exports.FORMAT_PARAMETER],
        responses={(200, "text/csv"): OpenApiTypes.BINARY,
                   (200, exports.CONTENT_TYPES["xlsx"]): OpenApiTypes.BINARY},
        summary="The project list as a CSV or Excel file",
        description="Every project the list would show with the same filters and sort (all "
                    "pages, not one), one row each. Text that starts like a spreadsheet "
                    "formula (=, +, -, @, tab, CR) is written with a leading apostrophe.",
    )
    @action(detail=False, methods=["get"], url_path=r"export/(?P<fmt>csv|xlsx)",
            url_name="export", renderer_classes=exports.EXPORT_RENDERERS)
    def export(self, request, fmt=None, format=None):
        rows = (_project_row(request, p) for p in self.get_queryset().iterator(chunk_size=2000))
        return exports.download(fmt, PROJECT_EXPORT_HEADER, rows, filename="projects",
                                sheet="Projects")

    @extend_schema(request=TransitionSerializer, responses=ProjectSerializer,
                   summary="Change the status (only a QI lead approves)")
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None, format=None):
        project = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._write(services.project_transition, project=project,
                           **data.validated_data)

    @extend_schema(methods=["GET"], responses=TeamMemberSerializer(many=True),
                   summary="The project team (paginated)")
    @extend_schema(methods=["POST"], request=TeamMemberInputSerializer,
                   responses={201: TeamMemberSerializer},
                   summary="Add a trust user, or a named patient/carer partner")
    @action(detail=True, methods=["get", "post"])
    def team(self, request, pk=None, format=None):
        project = self.get_object()
        if request.method == "POST":
            data = TeamMemberInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            with transaction.atomic():  # the answer is read before the commit (see _write)
                member = _service(services.team_member_add, by=request.user, project=project,
                                  **data.validated_data)
                body = TeamMemberSerializer(member).data
            return Response(body, status=status.HTTP_201_CREATED)
        qs = sync_filter(request, project.team.select_related("user").order_by("id"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(TeamMemberSerializer(page, many=True).data)

    @extend_schema(responses={204: None}, summary="Remove a team member")
    @action(detail=True, methods=["delete"], url_path=r"team/(?P<member_id>[0-9]+)")
    def team_remove(self, request, pk=None, member_id=None, format=None):
        project = self.get_object()
        member = get_object_or_404(TeamMember, pk=member_id, project=project)
        _service(services.team_member_remove, by=request.user, member=member)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(methods=["GET"], responses=ProgressScoreSerializer(many=True),
                   summary="Progress-score history, oldest first (paginated)")
    @extend_schema(methods=["POST"], request=ProgressScoreInputSerializer,
                   responses={201: ProgressScoreSerializer},
                   summary="Record an IHI progress score (0.5–5.0) with a date")
    @action(detail=True, methods=["get", "post"])
    def progress(self, request, pk=None, format=None):
        project = self.get_object()
        if request.method == "POST":
            data = ProgressScoreInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            with transaction.atomic():  # the answer is read before the commit (see _write)
                entry = _service(services.progress_score_record, by=request.user,
                                 project=project, **data.validated_data)
                body = ProgressScoreSerializer(entry).data
            return Response(body, status=status.HTTP_201_CREATED)
        qs = sync_filter(request, project.progress_scores.select_related("recorded_by")
                         .order_by("scored_on", "id"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(ProgressScoreSerializer(page, many=True).data)


# ---- driver diagram (drivers and change ideas) -------------------------------------------



def visible_project(request, project_id, perm):
    """The project for a write: 404 when the user cannot see it, 403 without `perm`."""
    project = get_object_or_404(
        selectors.visible_projects(request.user), pk=project_id
    )
    access.check(request.user, perm, project=project)
    return project


def django_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    if hasattr(exc, "message_dict"):
        return serializers.ValidationError(exc.message_dict)
    return serializers.ValidationError({"non_field_errors": exc.messages})


class ServiceWrites:
    """Viewset mixin: call a service; its ValidationError becomes a 400."""

    def _call(self, fn, **kwargs):
        try:
            return fn(**kwargs)
        except DjangoValidationError as exc:
            raise django_errors(exc) from exc

    def _answer(self, serializer, fn, code=status.HTTP_200_OK, **kwargs):
        """Call the service and serialize what it saved in one transaction: the answer is
        read before the commit, so a connection lost after the commit cannot turn a saved
        write into a 500 (and the client's retry into a duplicate or a conflict)."""
        with transaction.atomic():
            data = serializer(self._call(fn, **kwargs)).data
        return Response(data, status=code)


# ---- drivers --------------------------------------------------------------------------------


class DriverSerializer(serializers.ModelSerializer):
    level = serializers.SerializerMethodField()

    class Meta:
        model = Driver
        fields = ["id", "project", "parent", "text", "position", "level"]
        read_only_fields = ["position", "level"]

    def get_level(self, obj) -> str:
        return "primary" if obj.parent_id is None else "secondary"


class DriverUpdateSerializer(serializers.Serializer):
    text = StrictCharField(max_length=300)


@extend_schema_view(
    list=extend_schema(summary="Drivers of the projects you can see",
                       description="Filter with ?project=<id> or ?parent=<id>."),
    create=extend_schema(summary="Add a primary driver (no parent) or a secondary driver"),
    partial_update=extend_schema(request=DriverUpdateSerializer, summary="Rename a driver"),
    update=extend_schema(request=DriverUpdateSerializer, summary="Rename a driver"),
    destroy=extend_schema(summary="Remove a driver (and a primary driver's secondaries)"),
)
class DriverViewSet(SyncMixin, ServiceWrites, viewsets.ModelViewSet):
    """Primary and secondary drivers of the driver diagrams of projects you can see."""

    serializer_class = DriverSerializer
    filterset_fields = ["project", "parent"]

    def get_queryset(self):
        return Driver.objects.filter(
            project__in=selectors.visible_projects(self.request.user)
        ).order_by("project_id", "parent_id", "position", "id")

    def create(self, request, *args, **kwargs):
        s = DriverSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        project = visible_project(request, s.validated_data["project"].pk,
                                   Permission.PROJECT_EDIT)
        return self._answer(DriverSerializer, services.driver_create, status.HTTP_201_CREATED,
                            project=project, parent=s.validated_data.get("parent"),
                            text=s.validated_data["text"], by=request.user)

    def update(self, request, *args, **kwargs):
        driver = self.get_object()
        s = DriverUpdateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return self._answer(DriverSerializer, services.driver_update, driver=driver,
                            text=s.validated_data["text"], by=request.user)

    def destroy(self, request, *args, **kwargs):
        self._call(services.driver_delete, driver=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---- change ideas ---------------------------------------------------------------------------


class ChangeIdeaSerializer(serializers.ModelSerializer):
    drivers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Driver.objects.all(),
        help_text="Ids of the secondary drivers this change idea acts on (at least one).",
    )

    class Meta:
        model = ChangeIdea
        fields = ["id", "project", "text", "position", "drivers"]
        read_only_fields = ["position"]


class ChangeIdeaUpdateSerializer(serializers.Serializer):
    text = StrictCharField(max_length=300, required=False)
    drivers = serializers.PrimaryKeyRelatedField(many=True, queryset=Driver.objects.all(),
                                                 required=False)


@extend_schema_view(
    list=extend_schema(summary="Change ideas of the projects you can see",
                       description="Filter with ?project=<id>."),
    create=extend_schema(summary="Add a change idea acting on secondary drivers"),
    update=extend_schema(request=ChangeIdeaUpdateSerializer),
    partial_update=extend_schema(request=ChangeIdeaUpdateSerializer),
)
class ChangeIdeaViewSet(SyncMixin, ServiceWrites, viewsets.ModelViewSet):
    """Change ideas of the projects you can see; each acts on at least one secondary driver."""

    serializer_class = ChangeIdeaSerializer
    filterset_fields = ["project"]

    def get_queryset(self):
        return (
            ChangeIdea.objects.filter(project__in=selectors.visible_projects(self.request.user))
            .prefetch_related("drivers").order_by("project_id", "position", "id")
        )

    def create(self, request, *args, **kwargs):
        s = ChangeIdeaSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        project = visible_project(request, s.validated_data["project"].pk,
                                   Permission.PROJECT_EDIT)
        return self._answer(ChangeIdeaSerializer, services.change_idea_create,
                            status.HTTP_201_CREATED, project=project,
                            text=s.validated_data["text"], drivers=s.validated_data["drivers"],
                            by=request.user)

    def update(self, request, *args, **kwargs):
        idea = self.get_object()
        s = ChangeIdeaUpdateSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return self._answer(ChangeIdeaSerializer, services.change_idea_update,
                            change_idea=idea, by=request.user, **s.validated_data)

    def destroy(self, request, *args, **kwargs):
        self._call(services.change_idea_delete, change_idea=self.get_object(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def register(router):
    router.register("projects", ProjectViewSet, basename="project")
    router.register("drivers", DriverViewSet, basename="driver")
    router.register("change-ideas", ChangeIdeaViewSet, basename="change-idea")
