"""REST API for collaboratives. Endpoints register on the one /api/v1/ router. Thin: the
same selectors (access scopes) and services (access checks, patient-data screen) as the pages.

- `collaboratives`, `collaborative-trusts`, `collaborative-teams`: read (what you may see).
- `shared-measures`: read; facilitators POST a new definition.
- `team-reports`: read; a team's own people POST a month's report.
- `learning-posts`, `learning-comments`: read; members and facilitators POST.

Objects outside your scope answer 404; a member without the right gets 403.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError

from collaboratives import selectors, services
from collaboratives.models import (
    SCORE_CHOICES,
    Collaborative,
    Comment,
    Enrolment,
    LearningPost,
    LearningSession,
    Participation,
    SharedMeasure,
    TeamReport,
)
from core.api import SyncMixin
from core.screening import no_patient_identifiers


def _screened(fields):
    for field in fields.values():
        if isinstance(field, serializers.CharField) and not isinstance(
                field, serializers.ChoiceField) and no_patient_identifiers not in field.validators:
            field.validators.append(no_patient_identifiers)
    return fields


def _service(call, **kwargs):
    try:
        return call(**kwargs)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict")
                              else {"non_field_errors": exc.messages}) from exc


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = LearningSession
        fields = ["id", "title", "date", "online", "place", "agenda", "materials_url"]


class CollaborativeSerializer(serializers.ModelSerializer):
    host_trust = serializers.CharField(source="host_trust.ods_code", read_only=True)
    sessions = SessionSerializer(many=True, read_only=True)
    facilitators = serializers.SlugRelatedField(many=True, read_only=True,
                                                slug_field="full_name")

    class Meta:
        model = Collaborative
        fields = ["id", "name", "topic", "host_trust", "aim", "description", "start_date",
                  "end_date", "report_due_day", "facilitators", "sessions"]
        read_only_fields = fields


class CollaborativeViewSet(SyncMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CollaborativeSerializer

    def get_queryset(self):
        return selectors.collaboratives_visible_to(self.request.user).prefetch_related(
            "sessions", "facilitators").order_by("-start_date", "id")


class ParticipationSerializer(serializers.ModelSerializer):
    trust = serializers.CharField(source="trust.ods_code", read_only=True)
    trust_name = serializers.CharField(source="trust.name", read_only=True)

    class Meta:
        model = Participation
        fields = ["id", "collaborative", "trust", "trust_name", "status", "invited_at",
                  "responded_at"]
        read_only_fields = fields


class ParticipationViewSet(SyncMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ParticipationSerializer
    filterset_fields = ["collaborative", "status"]

    def get_queryset(self):
        return selectors.participations_for(self.request.user).order_by("id")


class EnrolmentSerializer(serializers.ModelSerializer):
    team = serializers.CharField(source="project.title", read_only=True)
    trust = serializers.CharField(source="project.trust.ods_code", read_only=True)

    class Meta:
        model = Enrolment
        fields = ["id", "collaborative", "team", "trust", "status", "requested_at",
                  "decided_at", "left_at"]
        read_only_fields = fields


class EnrolmentViewSet(SyncMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = EnrolmentSerializer
    filterset_fields = ["collaborative", "status"]

    def get_queryset(self):
        return selectors.enrolments_for(self.request.user).order_by("id")


class SharedMeasureSerializer(serializers.ModelSerializer):
    collaborative = serializers.PrimaryKeyRelatedField(queryset=Collaborative.objects.none())

    class Meta:
        model = SharedMeasure
        fields = ["id", "collaborative", *services.SHARED_FIELDS, "version"]
        read_only_fields = ["id", "version"]

    def get_fields(self):
        fields = _screened(super().get_fields())
        fields["collaborative"].queryset = selectors.readable(self.context["request"].user)
        return fields


class SharedMeasureViewSet(SyncMixin, mixins.CreateModelMixin,
                           viewsets.ReadOnlyModelViewSet):
    serializer_class = SharedMeasureSerializer
    filterset_fields = ["collaborative"]

    def get_queryset(self):
        return selectors.shared_measures_for(self.request.user).order_by("id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        collaborative = data.pop("collaborative")
        serializer.instance = _service(services.shared_measure_create,
                                       collaborative=collaborative, by=self.request.user, **data)


class TeamReportSerializer(serializers.ModelSerializer):
    enrolment = serializers.PrimaryKeyRelatedField(queryset=Enrolment.objects.none())
    # Decimals, not enums: the progress scale's choices are documented in the help text.
    score = serializers.DecimalField(
        max_digits=2, decimal_places=1,
        help_text="The IHI progress scale: " + "; ".join(label for _, label in SCORE_CHOICES))
    faculty_score = serializers.DecimalField(max_digits=2, decimal_places=1, read_only=True,
                                             allow_null=True)
    collaborative = serializers.IntegerField(source="enrolment.collaborative_id", read_only=True)

    class Meta:
        model = TeamReport
        fields = ["id", "collaborative", "enrolment", "month", "score", "tested", "learned",
                  "help_needed", "faculty_score", "faculty_comment", "submitted_at",
                  "assessed_at"]
        read_only_fields = ["id", "faculty_score", "faculty_comment", "submitted_at",
                            "assessed_at"]
        validators = []  # the service decides create-or-update for the month

    def get_fields(self):
        fields = _screened(super().get_fields())
        fields["enrolment"].queryset = selectors.enrolments_for(self.context["request"].user)
        return fields

    def validate_score(self, value):
        if value not in {s for s, _ in SCORE_CHOICES}:
            raise ValidationError("Choose a score on the IHI progress scale, 0.5 to 5.0 in "
                                  "steps of 0.5.")
        return value


class TeamReportViewSet(SyncMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TeamReportSerializer
    filterset_fields = ["enrolment", "month"]

    def get_queryset(self):
        return selectors.team_reports_for(self.request.user).order_by("-month", "id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        enrolment, month = data.pop("enrolment"), data.pop("month")
        serializer.instance = _service(services.team_report_submit, enrolment=enrolment,
                                       month=month, by=self.request.user, **data)


class PostSerializer(serializers.ModelSerializer):
    collaborative = serializers.PrimaryKeyRelatedField(queryset=Collaborative.objects.none())
    author = serializers.CharField(source="author.get_full_name", read_only=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False,
                                 write_only=True)
    tag_names = serializers.SerializerMethodField()
    comments = serializers.IntegerField(source="n_comments", read_only=True)

    class Meta:
        model = LearningPost
        fields = ["id", "collaborative", "title", "body", "author", "enrolment", "tags",
                  "tag_names", "comments", "created_at"]
        read_only_fields = ["id", "author", "enrolment", "created_at"]

    def get_fields(self):
        fields = _screened(super().get_fields())
        fields["collaborative"].queryset = selectors.readable(self.context["request"].user)
        fields["tags"].child.validators.append(no_patient_identifiers)
        return fields

    def get_tag_names(self, obj) -> list[str]:
        return [t.name for t in obj.tags.all()]


class PostViewSet(SyncMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PostSerializer
    filterset_fields = ["collaborative"]

    def get_queryset(self):
        return selectors.posts_for(self.request.user).order_by("-created_at", "-id")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        post = _service(services.post_create, collaborative=data["collaborative"],
                        by=self.request.user, title=data["title"], body=data["body"],
                        tags=data.get("tags", ()))
        serializer.instance = selectors.posts_for(self.request.user).get(pk=post.pk)


class CommentSerializer(serializers.ModelSerializer):
    post = serializers.PrimaryKeyRelatedField(queryset=LearningPost.objects.none())
    author = serializers.CharField(source="author.get_full_name", read_only=True)

    class Meta:
        model = Comment
        fields = ["id", "post", "body", "author", "created_at"]
        read_only_fields = ["id", "author", "created_at"]

    def get_fields(self):
        fields = _screened(super().get_fields())
        fields["post"].queryset = LearningPost.objects.filter(
            collaborative__in=selectors.readable(self.context["request"].user))
        return fields


class CommentViewSet(SyncMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CommentSerializer
    filterset_fields = ["post"]

    def get_queryset(self):
        return selectors.comments_for(self.request.user).order_by("created_at", "id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = _service(services.comment_create, post=data["post"],
                                       by=self.request.user, body=data["body"])


def register(router):
    router.register("collaboratives", CollaborativeViewSet, basename="collaborative")
    router.register("collaborative-trusts", ParticipationViewSet,
                    basename="collaborative-trust")
    router.register("collaborative-teams", EnrolmentViewSet, basename="collaborative-team")
    router.register("shared-measures", SharedMeasureViewSet, basename="shared-measure")
    router.register("team-reports", TeamReportViewSet, basename="team-report")
    router.register("learning-posts", PostViewSet, basename="learning-post")
    router.register("learning-comments", CommentViewSet, basename="learning-comment")
