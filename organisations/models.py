"""Regions, trusts, units (a tree inside a trust), users and memberships."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from core.screening import NO_PATIENT_DATA

ods_code_validator = RegexValidator(
    r"^[A-Z0-9]{3}$",
    "Enter the trust's ODS code: three capital letters or digits, for example RWK.",
)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, validators=NO_PATIENT_DATA)
    job_title = models.CharField(max_length=150, blank=True, validators=NO_PATIENT_DATA)
    is_national_analyst = models.BooleanField(
        "national-centre analyst",
        default=False,
        help_text="Reads every trust; changes none.",
    )
    is_staff = models.BooleanField(
        "staff status", default=False, help_text="May sign in to the Django admin site."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Region(models.Model):
    """An NHS England region, e.g. London (Y56)."""

    code = models.CharField(max_length=3, unique=True)
    name = models.CharField(max_length=100, unique=True, validators=NO_PATIENT_DATA)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Trust(models.Model):
    class Type(models.TextChoices):
        ACUTE = "acute", "Acute"
        MENTAL_HEALTH = "mental_health", "Mental health"
        COMMUNITY = "community", "Community"
        AMBULANCE = "ambulance", "Ambulance"
        SPECIALIST = "specialist", "Specialist"

    ods_code = models.CharField(
        "ODS code",
        max_length=3,
        unique=True,
        validators=[ods_code_validator],
        help_text="Three capital letters or digits, for example RWK.",
    )
    name = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    trust_type = models.CharField(max_length=20, choices=Type.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="trusts")
    staff_headcount = models.PositiveIntegerField(
        help_text="Used to express QI capability per 1,000 staff."
    )

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff_headcount__gt=0), name="trust_headcount_positive"
            ),
        ]

    def __str__(self):
        return self.label(self.name, self.ods_code)

    @staticmethod
    def label(name: str, ods_code: str) -> str:
        """How a trust is named in lists, from its two fields (for choices read as values,
        without building 200 Trust rows)."""
        return f"{name} ({ods_code})"


class Unit(models.Model):
    """A part of a trust: division/directorate → ward/team/service.

    The tree is stored as a materialised path ("0000012/0000040/") so "every unit under this one" is
    one indexed prefix query, whatever the depth. `organisations.services` keeps it right.
    """

    class Kind(models.TextChoices):
        DIVISION = "division", "Division"
        DIRECTORATE = "directorate", "Directorate"
        WARD = "ward", "Ward"
        TEAM = "team", "Team"
        SERVICE = "service", "Service"

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200, validators=NO_PATIENT_DATA)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")
    depth = models.PositiveSmallIntegerField(editable=False, default=0)

    # When the row last changed: `?updated_since=` on the API lists (core/api.py).
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["trust", "path"]
        constraints = [
            models.UniqueConstraint(
                fields=["trust", "parent", "name"], name="unit_unique_name_under_parent"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id and self.trust_id and self.parent.trust_id != self.trust_id:
            raise ValidationError({"parent": "The parent unit must belong to the same trust."})
        if self.pk and self.parent_id:
            node = self.parent
            while node is not None:
                if node.pk == self.pk:
                    raise ValidationError({"parent": "A unit cannot sit under itself."})
                node = node.parent


class Membership(models.Model):
    """A user's role at a trust. A person may hold several roles at one trust."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician / project member"
        QI_LEAD = "qi_lead", "QI lead or coach"
        BOARD_MEMBER = "board_member", "Board member"
        TRUST_ADMIN = "trust_admin", "Trust administrator"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["trust__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "trust", "role"], name="membership_unique_role"
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} at {self.trust.ods_code}"


class AuditEvent(models.Model):
    """Who changed a trust's people or units, and when. Written by `organisations.services`
    in the same transaction as the change; read-only everywhere else.

    Targets are kept as plain ids (not foreign keys) so an entry outlives a removed unit.
    """

    class Action(models.TextChoices):
        INVITED = "invited", "Invited a person"
        ROLE_GRANTED = "role_granted", "Granted a role"
        ROLE_REVOKED = "role_revoked", "Revoked a role"
        UNIT_ADDED = "unit_added", "Added a unit"
        UNIT_RENAMED = "unit_renamed", "Renamed a unit"
        UNIT_MOVED = "unit_moved", "Moved a unit"
        UNIT_REMOVED = "unit_removed", "Removed a unit"
        TOKEN_CREATED = "token_created", "Created a service token"
        TOKEN_REVOKED = "token_revoked", "Revoked a service token"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="audit_events")
    action = models.CharField(max_length=20, choices=Action.choices)
    description = models.CharField(max_length=300, validators=NO_PATIENT_DATA)
    target_user_id = models.PositiveBigIntegerField(null=True, blank=True)
    target_unit_id = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["trust", "-created_at"], name="audit_trust_recent")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_action_display()}: {self.description}"


class ApiToken(models.Model):
    """A secret that signs an API client in (`Authorization: Bearer <secret>`).

    Only the SHA-256 of the secret is stored; the secret is shown once, when it is made.
    A *personal* token acts as its owner, with exactly the owner's access. A *service*
    token (`trust` set) belongs to a service account made for it: one role at that trust,
    narrowed by `organisations.access` to that trust and, when `read_only`, to reading.
    Tokens are written only by `organisations.services` (`api_token_*`).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, validators=NO_PATIENT_DATA)
    # Screened like free text although it is ours: 12 characters cannot hold an NHS number.
    prefix = models.CharField(max_length=12, editable=False, validators=NO_PATIENT_DATA)
    # The SHA-256 digest as bytes: not text, so never mistaken for (or screened as) words.
    key_hash = models.BinaryField(max_length=32, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Service tokens only.
    trust = models.ForeignKey(
        Trust, on_delete=models.CASCADE, null=True, blank=True, related_name="service_tokens"
    )
    read_only = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_recent")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_created",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_service(self) -> bool:
        return self.trust_id is not None

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


# ---- QI capability returns and the NHS IMPACT self-assessment (issue 14, item 1) ----------
# Written only by `organisations.capability`; who may do what is in organisations/access.py
# "QI capability". The national figures built from them are in reports/national.py.

DEFAULT_CAPABILITY_LEVELS = ("Awareness", "Practitioner", "Advanced / coach", "Leader")


class CapabilityLevel(models.Model):
    """A level of QI training the centre counts (defaults: DEFAULT_CAPABILITY_LEVELS). The
    centre adds, renames and retires levels; a retired level keeps its past counts."""

    name = models.CharField(max_length=60, unique=True, validators=NO_PATIENT_DATA)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name


class CapabilityReturn(models.Model):
    """A trust's QI capability in one calendar quarter: its staff headcount, the staff who
    hold each level of QI training at the end of the quarter (`counts`) and the staff who
    completed a leadership programme during it."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="capability_returns")
    quarter = models.DateField(help_text="The first day of the quarter (1 Jan, Apr, Jul, Oct).")
    headcount = models.PositiveIntegerField("staff headcount")
    leadership_completions = models.PositiveIntegerField("leadership programme completions",
                                                         default=0)
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["trust", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "quarter"], name="capability_trust_quarter"),
            models.CheckConstraint(condition=models.Q(headcount__gt=0),
                                   name="capability_headcount_positive"),
        ]

    def __str__(self):
        return f"Capability return: {self.trust.ods_code} {self.quarter_label}"

    @property
    def quarter_label(self) -> str:
        return f"{self.quarter.year} Q{(self.quarter.month - 1) // 3 + 1}"

    def clean(self):
        if self.quarter and (self.quarter.day != 1 or self.quarter.month not in (1, 4, 7, 10)):
            raise ValidationError({"quarter": "A quarter starts on 1 January, April, July "
                                              "or October."})


class CapabilityCount(models.Model):
    """Staff holding one level of training in one return."""

    capability_return = models.ForeignKey(CapabilityReturn, on_delete=models.CASCADE,
                                          related_name="counts")
    level = models.ForeignKey(CapabilityLevel, on_delete=models.PROTECT, related_name="counts")
    trained = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["level__order", "level_id"]
        constraints = [
            models.UniqueConstraint(fields=["capability_return", "level"],
                                    name="capability_count_level"),
        ]

    def __str__(self):
        return f"{self.level}: {self.trained}"


IMPACT_COMPONENTS = (
    ("purpose", "Building a shared purpose and vision"),
    ("people", "Investing in people and culture"),
    ("leadership", "Developing leadership behaviours"),
    ("capability", "Building improvement capability and capacity"),
    ("systems", "Embedding improvement into management systems and processes"),
)
# The portal's 1-5 maturity scale for each component.
IMPACT_SCORES = (
    (1, "1 – Not yet started"),
    (2, "2 – Emerging"),
    (3, "3 – Developing"),
    (4, "4 – Established"),
    (5, "5 – Embedded and sustained"),
)


def _impact_fields():
    fields = {}
    for key, label in IMPACT_COMPONENTS:
        fields[f"{key}_score"] = models.PositiveSmallIntegerField(
            f"{label}: score", choices=IMPACT_SCORES)
        fields[f"{key}_evidence"] = models.TextField(
            f"{label}: evidence", blank=True, max_length=4000, validators=NO_PATIENT_DATA)
    return fields


class ImpactAssessment(models.Model):
    """A trust board's yearly NHS IMPACT self-assessment: a score (1-5) and the evidence for
    each of the five components (IMPACT_COMPONENTS)."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="impact_assessments")
    year = models.PositiveSmallIntegerField(help_text="The year of the board's assessment.")
    locals().update(_impact_fields())
    recorded_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["trust", "year"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "year"], name="impact_trust_year"),
        ]

    def __str__(self):
        return f"NHS IMPACT self-assessment: {self.trust.ods_code} {self.year}"

    def scores(self) -> list[tuple[str, str, int, str]]:
        """(key, label, score, evidence) for each component, in order."""
        return [(k, label, getattr(self, f"{k}_score"), getattr(self, f"{k}_evidence"))
                for k, label in IMPACT_COMPONENTS]
