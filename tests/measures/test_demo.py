"""Demo content: diagrams, measures and data with real signals; idempotent."""

import pytest

from measures import demo as measure_demo
from measures.snapshots import measure_spc_result
from tests.factories import ProjectFactory


@pytest.fixture
def demo_projects(alice, trust_a):
    return {title: ProjectFactory(trust=trust_a, lead=alice, title=title)
            for title in measure_demo.DEMO}


def test_seed_builds_diagrams_measures_and_signals(
    demo_projects, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = measure_demo.seed({"projects": demo_projects})
    assert len(out["measures"]) == 13 and len(out["change_ideas"]) == 18
    falls = out["measures"]["Inpatient falls per 1,000 occupied bed days"]
    points = list(falls.points.order_by("period"))
    assert 18 <= len(points) <= 36
    assert any(p.rebaseline and p.annotation == "Falls huddle introduced" for p in points)
    result = measure_spc_result(falls, points)
    assert len(result.phases) == 2
    assert any(p.special_cause for p in result.points)  # the outlier
    assert falls.snapshot.n_points == len(points)
    harm = out["measures"]["Days between falls with harm"]  # a rare-event (T) chart
    assert harm.chart == "t" and harm.points.count() >= 12
    assert harm.snapshot.variation_icon != ""
    sepsis = out["measures"]["Patients with sepsis given antibiotics within one hour"]
    assert sepsis.points.first().numerator is not None
    for project in demo_projects.values():
        assert 2 <= project.drivers.filter(parent__isnull=True).count() <= 3
        assert 3 <= project.change_ideas.count() <= 5


def test_seed_is_idempotent_and_deterministic(demo_projects):
    first = measure_demo.seed({"projects": demo_projects})
    values = list(first["measures"]["Incidents of restraint"].points.values_list("value",
                                                                                 flat=True))
    again = measure_demo.seed({"projects": demo_projects})
    assert {k: v.pk for k, v in again["measures"].items()} == {
        k: v.pk for k, v in first["measures"].items()}
    assert again["measures"]["Incidents of restraint"].points.count() == len(values)


def test_missing_projects_are_skipped(db):
    assert measure_demo.seed({"projects": {}}) == {"change_ideas": {}, "measures": {}}
    assert measure_demo.seed({}) == {"change_ideas": {}, "measures": {}}
