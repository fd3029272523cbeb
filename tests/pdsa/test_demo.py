import pytest

from pdsa import demo
from pdsa.models import Cycle
from tests.factories import MeasureFactory, ProjectFactory

TITLES = [
    "Reducing falls on Ward 7 (Elderly Care)",
    "Sepsis: antibiotics within one hour in the Emergency Department",
    "Reducing violence and restrictive practice on Willow Ward",
]


@pytest.fixture
def context(trust_a, alice):
    projects = {t: ProjectFactory(trust=trust_a, lead=alice, title=t) for t in TITLES}
    falls = projects[TITLES[0]]
    measure = MeasureFactory(project=falls, name=demo.FALLS_OUTCOME)
    return {"projects": projects, "measures": {measure.name: measure}}


def test_seed_makes_ramps_with_every_decision_and_is_idempotent(context):
    result = demo.seed(context)
    cycles = Cycle.objects.all()
    assert len(result["pdsa_cycles"]) == cycles.count() >= 20
    assert set(cycles.values_list("decision", flat=True)) == {"adopt", "adapt", "abandon", ""}
    ramp_lengths = {}
    for cycle in cycles:
        ramp_lengths[cycle.change_idea.text] = max(
            ramp_lengths.get(cycle.change_idea.text, 0), cycle.number
        )
        if cycle.number > 1:
            assert cycle.follows.number == cycle.number - 1
        assert cycle.prediction
    assert all(3 <= n <= 6 for n in ramp_lengths.values()), ramp_lengths
    linked = Cycle.objects.filter(measures__name=demo.FALLS_OUTCOME).count()
    assert linked >= 3
    assert Cycle.objects.exclude(status="complete").exists()

    again = demo.seed(context)
    assert again == {"pdsa_cycles": {}}
    assert Cycle.objects.count() == cycles.count()


def test_seed_skips_quietly_without_projects(db):
    assert demo.seed({}) == {"pdsa_cycles": {}}
