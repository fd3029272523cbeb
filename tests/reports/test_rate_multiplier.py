"""Issue 20 item 1: a national definition's rate (falls per 1,000 bed days) carries to the
measure, and the measure page, the trust matrix and its CSV, the API's `spc` reading and
the national comparison all read the same rate in that unit."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from measures import services as measure_services
from measures.models import Measure, MeasureSnapshot
from reports import comparisons, services
from reports.models import ComparisonSnapshot
from tests.factories import MeasureFactory, ProjectFactory
from tests.reports.compare_world import MONTHS, national_measure, points

NATIONAL = ComparisonSnapshot.Kind.NATIONAL
FALLS = [5, 7, 6, 6, 8, 4]  # a month, over 1,000 bed days: 5 ... 4 per 1,000
BED_DAYS = 1000


def _text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def falls(nadia, quentin, trust_a):
    nm = national_measure(nadia, chart="u", rate_per=1000, name="Falls per 1,000 bed days")
    nm.unit_label = "falls per 1,000 bed days"
    nm.save()
    project = ProjectFactory(trust=trust_a)
    adoption = services.national_adopt(national_measure=nm, by=quentin, project=project)
    measure = adoption.measure
    points(measure, [(m, f, BED_DAYS) for m, f in zip(MONTHS, FALLS, strict=True)])
    measure_services.measure_mark_dirty(measure_id=measure.pk)
    from measures.snapshots import measure_refresh
    measure_refresh(measure_id=measure.pk)
    return nm, measure


@pytest.mark.django_db
def test_the_definitions_rate_carries_to_the_measure_and_its_snapshot(falls):
    nm, measure = falls
    assert measure.rate_per == 1000
    assert measure.multiplier == nm.multiplier == 1000.0
    snap = MeasureSnapshot.objects.get(measure=measure)
    assert snap.latest_value == pytest.approx(4.0)  # 4 falls in 1,000 bed days, not 0.004
    centre = snap.result["latest"]["centre"]
    assert centre == pytest.approx(sum(FALLS) / (BED_DAYS * len(FALLS)) * 1000)


@pytest.mark.django_db
def test_api_spc_and_comparison_read_the_same_rate(client, falls, quentin):
    nm, measure = falls
    client.force_login(quentin, backend="django.contrib.auth.backends.ModelBackend")
    body = client.get(f"/api/v1/measures/{measure.pk}/spc/").json()
    assert body["latest_value"] == pytest.approx(4.0)
    assert comparisons.build(NATIONAL, nm.pk)
    row = ComparisonSnapshot.objects.get(kind=NATIONAL, object_id=nm.pk, period=MONTHS[-1])
    (unit,) = row.data["units"]
    assert unit["rate"] == pytest.approx(body["latest_value"])


@pytest.mark.django_db
def test_measure_page_and_matrix_csv_read_per_thousand(client, falls, quentin, trust_a):
    _, measure = falls
    client.force_login(quentin, backend="django.contrib.auth.backends.ModelBackend")
    page = _text(client.get(reverse("projects:measure_detail",
                                    args=[measure.project_id, measure.pk])))
    assert "0.004" not in page and "0.006" not in page
    assert re.search(r"\b6(\.0+)?\b", page)  # the centre, 6 falls per 1,000
    csv = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "csv"]))
    text = csv.content.decode()
    line = next(li for li in text.splitlines() if measure.name in li)
    assert "0.004" not in line and re.search(r"(^|,)4(\.0+)?(,|$| )", line), line


@pytest.mark.django_db
def test_linking_an_existing_measure_takes_the_rate_and_keeps_its_target(nadia, quentin,
                                                                         trust_a):
    nm = national_measure(nadia, chart="u", rate_per=1000, name="Falls per 1,000 bed days")
    mine = MeasureFactory(project=ProjectFactory(trust=trust_a), chart=Measure.Chart.U,
                          target=0.005)
    services.national_adopt(national_measure=nm, by=quentin, measure=mine)
    mine.refresh_from_db()
    assert mine.rate_per == 1000
    assert mine.target == pytest.approx(5.0)  # the same target, per 1,000
    with pytest.raises(ValidationError) as err:
        measure_services.measure_update(measure=mine, by=quentin, rate_per=100)
    assert "national definition" in str(err.value)


@pytest.mark.django_db
def test_an_adopted_definitions_rate_cannot_change(falls, nadia):
    nm, _ = falls
    with pytest.raises(ValidationError) as err:
        services.national_measure_save(by=nadia, instance=nm, rate_per=100)
    assert "rate" in str(err.value)


@pytest.mark.django_db
def test_only_u_charts_keep_a_rate(quentin, trust_a):
    project = ProjectFactory(trust=trust_a)
    m = measure_services.measure_create(
        project=project, by=quentin, name="Given on time", kind="process",
        definition="Doses given on time.", frequency="monthly", chart="p",
        direction="increase", rate_per=1000)
    assert m.rate_per == 1 and m.multiplier == 100.0
