"""Chart readings with too few points say so, by one rule (issue 9, item 6)."""

import datetime as dt

import pytest
from django.urls import reverse

from measures import charts, snapshots
from reports import spc
from reports.spc._common import TRIAL_LIMIT_POINTS
from reports.spc.reading import describe, too_few_points
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory


def test_a_one_point_chart_has_a_date_axis_not_milliseconds():
    fig = charts.spc_figure(spc.xmr([4.0]), x=["2026-03-01"])
    assert fig.layout.xaxis.type == "date"
    assert charts.spc_figure(spc.xmr([4.0, 5.0]), x=["A", "B"]).layout.xaxis.type is None


def test_two_points_never_read_as_target_consistently_met():
    result = spc.xmr([99.0, 99.5], improvement="increase", target=50)
    assert result.assurance == "consistent_pass"  # the engine's number, as NHSRplotthedots
    assert too_few_points(result)
    text = describe(result)
    assert "consistently met" not in text
    assert "too early to say whether the target of 50 will be met" in text
    assert f"needs {TRIAL_LIMIT_POINTS}" in text
    assert any(f"until there are {TRIAL_LIMIT_POINTS}" in w for w in result.warnings)


def test_enough_points_read_the_target_again():
    values = [99.0 + (i % 3) * 0.2 for i in range(TRIAL_LIMIT_POINTS)]
    result = spc.xmr(values, improvement="increase", target=50)
    assert not too_few_points(result)
    assert "consistently met" in describe(result)


@pytest.fixture
def short_measure(alice, trust_a):
    measure = MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice), chart="xmr",
                             frequency="monthly", direction="increase", target=50)
    for i, v in enumerate([99.0, 99.5]):
        DataPointFactory(measure=measure, period=dt.date(2026, i + 1, 1), value=v)
    return measure


def test_page_and_snapshot_show_no_assurance_from_trial_limits(client, alice, short_measure):
    snapshots.measure_refresh(measure_id=short_measure.pk)
    short_measure.snapshot.refresh_from_db()
    assert short_measure.snapshot.assurance == ""
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("projects:measure_detail",
                              args=[short_measure.project_id, short_measure.pk]))
    html = page.content.decode()
    assert page.context["icons"]["assurance"] == ""
    assert f"once there are {TRIAL_LIMIT_POINTS} points" in html
    assert "too early to say" in html
    assert "12 points" not in html  # one rule, one number
