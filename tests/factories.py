"""factory_boy factories, one per model. Later apps add theirs here or in their folder."""

import factory

from organisations import services
from organisations.models import Membership, Region, Trust, Unit, User

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"Y{n % 100:02d}")
    name = factory.LazyAttribute(lambda o: f"Region {o.code}")


class TrustFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trust

    ods_code = factory.Sequence(lambda n: f"R{_B36[n // 36 % 36]}{_B36[n % 36]}")
    name = factory.Sequence(lambda n: f"Test Trust {n} NHS Foundation Trust")
    trust_type = Trust.Type.ACUTE
    region = factory.SubFactory(RegionFactory)
    staff_headcount = 5000


class UnitFactory(factory.Factory):
    """Units are made through the service, which keeps the tree path."""

    class Meta:
        model = Unit

    trust = factory.SubFactory(TrustFactory)
    name = factory.Sequence(lambda n: f"Ward {n}")
    kind = Unit.Kind.WARD
    parent = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.unit_create(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.nhs.uk")
    full_name = factory.Sequence(lambda n: f"Test Person {n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    trust = factory.SubFactory(TrustFactory)
    role = Membership.Role.CLINICIAN


# ---- projects ---------------------------------------------------------------------------
from measures.models import DataPoint, Measure  # noqa: E402
from projects.models import ChangeIdea, Driver, Project, TeamMember  # noqa: E402


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    trust = factory.SubFactory(TrustFactory)
    title = factory.Sequence(lambda n: f"Reduce falls on ward {n}")
    aim = "Reduce inpatient falls by 30% by March 2027."
    lead = factory.SubFactory(UserFactory)
    created_by = factory.SelfAttribute("lead")
    visibility = Project.Visibility.TRUST
    status = Project.Status.ACTIVE


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)


class DriverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Driver

    project = factory.SubFactory(ProjectFactory)
    text = factory.Sequence(lambda n: f"Driver {n}")


class ChangeIdeaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChangeIdea

    project = factory.SubFactory(ProjectFactory)
    text = factory.Sequence(lambda n: f"Change idea {n}")


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measure

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Measure {n}")
    kind = Measure.Kind.OUTCOME
    definition = "Falls per 1,000 occupied bed days, from Datix, monthly."
    frequency = Measure.Frequency.MONTHLY
    chart = Measure.Chart.XMR
    direction = Measure.Direction.DECREASE


class DataPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DataPoint

    measure = factory.SubFactory(MeasureFactory)
    period = factory.Sequence(lambda n: __import__("datetime").date(2024 + n // 12, n % 12 + 1, 1))
    value = 5.0
