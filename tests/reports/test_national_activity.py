"""The national activity and capability table and national capability figures
(reports/national.py, reports/views/capability.py), checked against hand-computed values."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from organisations import capability
from organisations.models import CapabilityCount, CapabilityReturn, ImpactAssessment, Trust
from reports import national
from reports.models import NationalSnapshot, Rollup, TrustActivity
from reports.rollups import last_months
from tests.factories import RegionFactory, TrustFactory

Q1, Q2 = dt.date(2025, 1, 1), dt.date(2025, 4, 1)


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _return(trust, quarter, headcount, trained, leadership=0):
    levels = capability.levels()
    ret = CapabilityReturn.objects.create(trust=trust, quarter=quarter, headcount=headcount,
                                          leadership_completions=leadership)
    CapabilityCount.objects.bulk_create(
        CapabilityCount(capability_return=ret, level=lv, trained=n)
        for lv, n in zip(levels, trained, strict=False))
    return ret


def _rollup(trust, month, *, statuses, cycles, all_four, variation):
    return Rollup.objects.create(trust=trust, unit=None, month=month, by_status=statuses,
                                 cycles_logged=cycles, cycles_all_four=all_four,
                                 has_icons=True, by_variation=variation,
                                 built_at=timezone.now())


@pytest.fixture
def three(db):
    """Two trusts in the north (one acute, one mental health) and one in London."""
    north = RegionFactory(code="Y63", name="North East and Yorkshire")
    london = RegionFactory(code="Y56", name="London")
    a = TrustFactory(ods_code="RAA", name="Aldgate Acute", region=north)
    b = TrustFactory(ods_code="RBB", name="Bexley Minds", region=north,
                     trust_type=Trust.Type.MENTAL_HEALTH)
    c = TrustFactory(ods_code="RCC", name="Camden Care", region=london)
    # Aldgate: 2 quarters. Q1: 4,000 staff, 100 + 20 trained; Q2: 5,000 staff, 150 + 50.
    _return(a, Q1, 4000, [100, 20], leadership=4)
    _return(a, Q2, 5000, [150, 50], leadership=10)
    # Bexley: Q2 only, 1,000 staff, 30 trained.  Camden: Q1 only, 2,000 staff, 10 trained.
    _return(b, Q2, 1000, [30])
    _return(c, Q1, 2000, [10])
    months = last_months(4)
    # Aldgate's last three months: 3 + 5 + 2 cycles, 1 + 4 + 1 with all four stages.
    # (The month before those three is not counted.)
    _rollup(a, months[0], statuses={"active": 9}, cycles=50, all_four=50,
            variation={"improvement_high": 9})
    _rollup(a, months[1], statuses={"active": 1}, cycles=3, all_four=1,
            variation={"common_cause": 1})
    _rollup(a, months[2], statuses={"active": 2}, cycles=5, all_four=4,
            variation={"common_cause": 2})
    _rollup(a, months[3], statuses={"active": 2, "proposed": 1, "completed": 1}, cycles=2,
            all_four=1, variation={"improvement_high": 1, "improvement_low": 2,
                                   "common_cause": 4, "concern_high": 1})
    for year, score in ((2024, 2), (2025, 3)):
        ImpactAssessment.objects.create(trust=a, year=year, **{
            f"{k}_score": score for k, _ in capability.IMPACT_COMPONENTS})
    ImpactAssessment.objects.create(trust=b, year=2025, **{
        f"{k}_score": 5 for k, _ in capability.IMPACT_COMPONENTS})
    national.build()
    return a, b, c


def test_trust_rows_match_hand_computed_figures(three):
    a, b, c = three
    row = TrustActivity.objects.get(trust=a)
    assert row.by_status == {"active": 2, "proposed": 1, "completed": 1}
    assert (row.projects, row.projects_active) == (4, 2)
    assert row.cycles_last_quarter == 10  # 3 + 5 + 2
    assert row.pdsa_quality == 60.0  # (1 + 4 + 1) / 10
    assert (row.measures_with_icons, row.measures_improving) == (8, 3)
    assert row.improvement_share == 37.5  # 3 of 8
    assert row.latest_quarter == Q2
    assert row.trained_per_1000 == 40.0  # 200 × 1,000 ÷ 5,000
    assert TrustActivity.objects.get(trust=b).trained_per_1000 == 30.0
    empty = TrustActivity.objects.get(trust=c)
    assert empty.pdsa_quality is None and empty.improvement_share is None
    assert empty.trained_per_1000 == 5.0  # 10 × 1,000 ÷ 2,000


def test_region_and_national_rates_pool_headcounts(three):
    data = NationalSnapshot.objects.get(key=national.KEY).data
    q1, q2 = Q1.isoformat(), Q2.isoformat()
    assert data["quarters"] == [q1, q2] and data["labels"] == ["2025 Q1", "2025 Q2"]
    # England Q1: (120 + 10) × 1,000 ÷ (4,000 + 2,000) = 21.666… → 21.7
    assert data["national"][q1]["per_1000"] == 21.7
    # England Q2: (200 + 30) × 1,000 ÷ 6,000 = 38.333… → 38.3 (not the mean of 40 and 30)
    assert data["national"][q2]["per_1000"] == 38.3
    assert data["national"][q2]["trusts"] == 2
    # North Q2: Aldgate and Bexley; London has no Q2 return.
    assert data["regions"]["North East and Yorkshire"][q2]["per_1000"] == 38.3
    assert data["regions"]["North East and Yorkshire"][q1]["per_1000"] == 30.0
    assert q2 not in data["regions"]["London"]
    # Levels: Q2 awareness (150 + 30) ÷ 6,000 = 30.0; leadership Q1 4 ÷ 6,000 = 0.7
    assert data["national"][q2]["levels"]["Awareness"] == 30.0
    assert data["national"][q1]["leadership_per_1000"] == 0.7
    impact = data["impact"]["years"]["2025"]
    assert impact["trusts"] == 2
    assert impact["counts"]["purpose"] == [0, 0, 1, 0, 1]
    assert impact["mean"]["systems"] == 4.0


def test_home_filters_and_sorts(client, nadia, three):
    url = reverse("reports:national")
    page = _sign_in(client, nadia).get(url, {"region": "Y63"}).content.decode()
    assert "Aldgate Acute" in page and "Bexley Minds" in page and "Camden Care" not in page
    page = client.get(url, {"trust_type": "mental_health"}).content.decode()
    assert "Bexley Minds" in page and "Aldgate Acute" not in page
    page = client.get(url, {"sort": "trained", "order": "desc"}).content.decode()
    assert page.index("Aldgate Acute") < page.index("Bexley Minds") < page.index("Camden Care")
    page = client.get(url, {"sort": "trained"}).content.decode()
    assert page.index("Camden Care") < page.index("Bexley Minds") < page.index("Aldgate Acute")
    assert "Built less than a minute ago" in page


def test_csv_export_reads_back_with_the_filters(client, nadia, three):
    response = _sign_in(client, nadia).get(
        reverse("reports:national_activity_export", args=["csv"]),
        {"region": "Y63", "sort": "trained", "order": "desc"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["ODS code"] for r in rows] == ["RAA", "RBB"]
    assert rows[0]["Staff trained per 1,000"] == "40.0"
    assert rows[0]["PDSA cycles with all four stages (%)"] == "60.0"
    assert rows[0]["Active"] == "2"


def test_xlsx_export_reads_back_and_neutralises_formulas(client, nadia, three):
    from openpyxl import load_workbook

    Trust.objects.filter(ods_code="RCC").update(name="=HYPERLINK(\"x\")")
    national.build()
    response = _sign_in(client, nadia).get(
        reverse("reports:national_activity_export", args=["xlsx"]), {"sort": "name"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.values)
    assert values[0][0] == "Trust"
    names = [r[0] for r in values[1:]]
    assert "'=HYPERLINK(\"x\")" in names
    by_code = {r[1]: r for r in values[1:]}
    assert by_code["RBB"][values[0].index("Staff trained per 1,000")] == 30.0


def test_national_capability_page_shows_the_figures(client, nadia, three):
    page = _sign_in(client, nadia).get(reverse("reports:national_capability")).content.decode()
    assert "38.3" in page and "21.7" in page
    assert "Trusts at each NHS IMPACT score, 2025" in page


def test_trust_page_shows_its_region_and_england(client, nadia, three):
    a, _, _ = three
    page = _sign_in(client, nadia).get(
        reverse("reports:trust_capability", args=[a.ods_code])).content.decode()
    assert "40.0" in page and "38.3" in page  # the trust in Q2, and its region and England
    assert "Board scores by year" in page


def test_a_capability_change_rebuilds_the_figures(quentin, trust_a,
                                                  django_capture_on_commit_callbacks):
    levels = capability.levels()
    with django_capture_on_commit_callbacks(execute=True):
        capability.return_save(quentin, trust_a, quarter=Q1, headcount=2000,
                               leadership_completions=0, trained={levels[0].pk: 50})
    row = TrustActivity.objects.get(trust=trust_a)
    assert row.trained_per_1000 == 25.0
    snap = NationalSnapshot.objects.get(key=national.KEY)
    assert snap.dirty_since is None and snap.data["national"][Q1.isoformat()]["per_1000"] == 25.0


def _many(n):
    regions = [RegionFactory(code=f"Y{i:02d}") for i in range(7)]
    levels = capability.levels()
    trusts = [TrustFactory(region=regions[i % 7]) for i in range(n)]
    for i, trust in enumerate(trusts):
        ret = CapabilityReturn.objects.create(trust=trust, quarter=Q1, headcount=1000 + i)
        CapabilityCount.objects.create(capability_return=ret, level=levels[0], trained=i)
    national.build()


@pytest.mark.parametrize("n", [3, 200])
def test_national_pages_keep_a_constant_query_count(client, nadia, n,
                                                    django_assert_max_num_queries):
    _many(n)
    _sign_in(client, nadia)
    for name in ("reports:national", "reports:national_capability"):
        with django_assert_max_num_queries(9):
            response = client.get(reverse(name), {"sort": "trained"})
        assert response.status_code == 200
    with django_assert_max_num_queries(9):
        response = client.get(reverse("reports:national_activity_export", args=["csv"]))
    assert response.content.decode("utf-8-sig").count("\r\n") == n + 1


def test_a_trust_added_since_the_build_is_listed_empty(client, nadia, three):
    TrustFactory(name="Newly Added Trust")
    page = _sign_in(client, nadia).get(reverse("reports:national")).content.decode()
    assert "Newly Added Trust" in page
    assert page.count("No return") == 1
