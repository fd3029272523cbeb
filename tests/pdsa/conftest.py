"""PDSA fixtures. Alice (clinician, trust A) leads the falls project; Quentin is the QI lead
at trust A; Bob (board) and Nadia (national analyst) may read but not edit; Charlie (trust B)
should have no access to trust A's team-only things."""

import datetime

import pytest

from pdsa import services
from tests.factories import ChangeIdeaFactory, MeasureFactory, ProjectFactory


@pytest.fixture
def project(trust_a, alice):
    return ProjectFactory(trust=trust_a, lead=alice, title="Reduce falls on Ward 7")


@pytest.fixture
def idea(project):
    return ChangeIdeaFactory(project=project, text="Intentional rounding every 2 hours")


@pytest.fixture
def measure(project):
    return MeasureFactory(project=project, name="Falls per 1,000 bed days")


@pytest.fixture
def make_cycle(alice):
    """Start a cycle through the service (as Alice unless `by` is given)."""

    def make(change_idea, *, by=None, **fields):
        fields.setdefault("objective", "Test rounding on one bay for one week")
        fields.setdefault("prediction", "Falls in the bay will halve")
        fields.setdefault("planned_start", datetime.date(2026, 3, 2))
        # A later stage needs the ones before it (IHI order): a cycle made with an Act or a
        # Study has the earlier stages filled in too, unless the test gives them.
        if fields.get("decision"):
            fields.setdefault("results", "Falls in the bay halved, as predicted")
        if fields.get("decision") or fields.get("results") or fields.get("learning"):
            fields.setdefault("what_happened", "Rounded hourly in bay 2 for a week")
        return services.cycle_create(change_idea=change_idea, by=by or alice, **fields)

    return make


@pytest.fixture
def cycle(idea, make_cycle):
    return make_cycle(idea)


@pytest.fixture
def done_cycle(idea, make_cycle):
    """Planned and done: the Study comes next."""
    return make_cycle(idea, what_happened="Rounded hourly in bay 2 for a week")


@pytest.fixture
def studied_cycle(idea, make_cycle):
    """Planned, done and studied: the Act comes next."""
    return make_cycle(idea, results="Falls in the bay halved, as predicted")


def sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
