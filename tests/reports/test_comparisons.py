"""Issue 14, items 2 and 6: trusts compared on shared measures, funnel plots and national
deciles, precomputed (reports.comparisons) and only read by the pages."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from django.urls import reverse

from collaboratives.models import Adoption, Collaborative, Enrolment, Participation, SharedMeasure
from measures import services as measure_services
from measures.models import DataPoint, Measure
from reports import comparisons
from reports.funnel import funnel
from reports.models import ComparisonSetting, ComparisonSnapshot, NationalAdoption
from tests.factories import MeasureFactory, ProjectFactory
from tests.reports.compare_world import MONTHS, adopt, national_measure, points, trusts_with_data

NATIONAL = ComparisonSnapshot.Kind.NATIONAL
SHARED = ComparisonSnapshot.Kind.SHARED


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    html = re.sub(r"<svg.*?</svg>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# ---- deciles, by hand ----------------------------------------------------------------------


def test_deciles_of_five_rates_by_hand():
    # Sorted rates 10, 20, 30, 40, 50; type 7: the p-th percentile sits at 1 + 4p/100.
    # p10: 1.4 -> 10 + 0.4 * 10 = 14; p20: 1.8 -> 18; p30: 2.2 -> 22; p50: 3 -> 30;
    # p70: 3.8 -> 38; p90: 4.6 -> 40 + 0.6 * 10 = 46.
    got = comparisons.national_deciles([30.0, 10.0, 50.0, 20.0, 40.0])
    assert got["p10"] == pytest.approx(14.0)
    assert got["p20"] == pytest.approx(18.0)
    assert got["p30"] == pytest.approx(22.0)
    assert got["p50"] == pytest.approx(30.0)
    assert got["p70"] == pytest.approx(38.0)
    assert got["p90"] == pytest.approx(46.0)


def test_deciles_of_four_uneven_rates_by_hand():
    # Sorted 1, 2, 4, 10; position 1 + 3p/100. p10: 1.3 -> 1.3; p40: 2.2 -> 2 + 0.2*2 = 2.4;
    # p50: 2.5 -> 3; p90: 3.7 -> 4 + 0.7 * 6 = 8.2.
    got = comparisons.national_deciles([10, 1, 4, 2])
    assert got["p10"] == pytest.approx(1.3)
    assert got["p40"] == pytest.approx(2.4)
    assert got["p50"] == pytest.approx(3.0)
    assert got["p90"] == pytest.approx(8.2)
    assert comparisons.national_deciles([]) is None


@pytest.mark.django_db
def test_stored_deciles_are_the_trusts_rates_summed_across_their_measures(nadia):
    nm = national_measure(nadia)
    rates = [0.10, 0.20, 0.30, 0.40, 0.50]
    made = trusts_with_data(nm, nadia, 5, months=MONTHS[:1], rate=lambda i, k: rates[i])
    # A second linked measure at the first trust: 30 of 100 more, so 40 of 200 = 20%.
    trust0, measure0 = made[0]
    extra = adopt(nm, ProjectFactory(trust=trust0), nadia, name="Second ward")
    points(extra, [(MONTHS[0], 30, 100)])
    assert comparisons.build(NATIONAL, nm.pk)
    series = ComparisonSnapshot.objects.get(kind=NATIONAL, object_id=nm.pk, period=None).data
    # Rates now 20, 20, 30, 40, 50 (%): p10 at 1.4 -> 20; p50 -> 30; p90 at 4.6 -> 46.
    d = series["deciles"][0]
    assert d["n"] == 5
    assert d["p10"] == pytest.approx(20.0)
    assert d["p50"] == pytest.approx(30.0)
    assert d["p90"] == pytest.approx(46.0)
    assert "linear" in series["method"]
    first = next(t for t in series["trusts"] if t["id"] == trust0.pk)
    assert first["rates"] == [pytest.approx(20.0)]
    row = ComparisonSnapshot.objects.get(kind=NATIONAL, object_id=nm.pk, period=MONTHS[0])
    unit0 = next(u for u in row.data["units"] if u["trust"] == trust0.pk)
    assert (unit0["numerator"], unit0["denominator"]) == (40.0, 200.0)


# ---- the funnel is reports.funnel's ------------------------------------------------------------


@pytest.mark.django_db
def test_stored_funnel_equals_reports_funnel_called_directly(nadia):
    nm = national_measure(nadia)
    made = trusts_with_data(nm, nadia, 12, rate=lambda i, k: 0.3 + 0.04 * i + 0.01 * k)
    assert comparisons.build(NATIONAL, nm.pk)
    for k, month in enumerate(MONTHS):
        row = ComparisonSnapshot.objects.get(kind=NATIONAL, object_id=nm.pk, period=month)
        nums = [float(round((0.3 + 0.04 * i + 0.01 * k) * 100)) for i in range(12)]
        direct = funnel(nums, [100.0] * 12, [str(t.pk) for t, _ in made], data_type="PR",
                        multiplier=100)
        assert row.data["funnel"] == direct.to_dict()
        assert row.n_trusts == 12


@pytest.mark.django_db
def test_u_chart_definition_uses_ratio_of_counts_per_rate(nadia):
    nm = national_measure(nadia, chart="u", rate_per=1000, name="Falls per 1,000 bed days")
    made = trusts_with_data(nm, nadia, 4, months=MONTHS[:1], rate=lambda i, k: 0.05 + 0.02 * i)
    comparisons.build(NATIONAL, nm.pk)
    row = ComparisonSnapshot.objects.get(kind=NATIONAL, object_id=nm.pk, period=MONTHS[0])
    nums = [float(round((0.05 + 0.02 * i) * 100)) for i in range(4)]
    direct = funnel(nums, [100.0] * 4, [str(t.pk) for t, _ in made], data_type="RC",
                    multiplier=1000)
    assert row.data["funnel"] == direct.to_dict()
    assert row.data["units"][0]["rate"] == pytest.approx(nums[0] / 100 * 1000)


@pytest.mark.django_db
def test_fewer_than_three_trusts_get_no_funnel_and_a_reason(nadia):
    nm = national_measure(nadia)
    trusts_with_data(nm, nadia, 2, months=MONTHS[:1])
    comparisons.build(NATIONAL, nm.pk)
    row = ComparisonSnapshot.objects.get(kind=NATIONAL, object_id=nm.pk, period=MONTHS[0])
    assert row.data["funnel"] is None
    assert "at least 3 trusts" in row.data["reason"]


# ---- the page: outliers with their numbers, no ranking, few trusts, built when --------------


@pytest.fixture
def outlier_world(nadia):
    nm = national_measure(nadia)
    rates = [0.5] * 9 + [0.95]  # the last trust is far above the others
    made = trusts_with_data(nm, nadia, 10, months=MONTHS[:2],
                            rate=lambda i, k: rates[i] + (0.01 if i % 2 else -0.01))
    comparisons.build(NATIONAL, nm.pk)
    return nm, made


@pytest.mark.django_db
def test_page_lists_outliers_with_their_numbers(client, nadia, outlier_world):
    nm, made = outlier_world
    high = made[-1][0]
    url = reverse("reports:compare_measure", args=["national", nm.pk])
    response = _sign_in(client, nadia).get(url)
    assert response.status_code == 200
    text = _text(response)
    assert f"{high.name}: 96 out of 100, 96.0%, above the 99.8% upper limit" in text
    assert "Built 0 minutes ago from 10 trusts" in text
    assert "Only 10 trusts" not in text  # 10 is enough not to warn
    assert "<svg" in response.content.decode()  # the server-drawn funnel, for no-JS and print
    assert 'id="chart-data-funnel-chart"' in response.content.decode()
    assert "rank" not in text.lower()


@pytest.mark.django_db
def test_period_picker_bad_value_gets_an_error_summary(client, nadia, outlier_world):
    nm, _ = outlier_world
    url = reverse("reports:compare_measure", args=["national", nm.pk])
    response = _sign_in(client, nadia).get(url, {"period": "1999-01-01", "trust": "x"})
    assert response.status_code == 200
    text = _text(response)
    assert "There is a problem" in text
    assert "Select a valid choice" in text


@pytest.mark.django_db
def test_few_trusts_say_comparisons_are_limited(client, nadia):
    nm = national_measure(nadia)
    trusts_with_data(nm, nadia, 3)
    comparisons.build(NATIONAL, nm.pk)
    text = _text(_sign_in(client, nadia).get(
        reverse("reports:compare_measure", args=["national", nm.pk])))
    assert "Only 3 trusts" in text
    assert "Comparisons with few trusts are limited" in text


# ---- anonymisation ------------------------------------------------------------------------


@pytest.fixture
def named_world(nadia, trust_a, alice):
    nm = national_measure(nadia)
    made = trusts_with_data(nm, nadia, 4, first=trust_a, months=MONTHS[:3])
    comparisons.build(NATIONAL, nm.pk)
    return nm, made


@pytest.mark.django_db
def test_trust_users_see_other_trusts_anonymised_by_default(client, alice, named_world):
    nm, made = named_world
    url = reverse("reports:compare_measure", args=["national", nm.pk])
    response = _sign_in(client, alice).get(url)
    body = response.content.decode()
    assert made[0][0].name in body  # their own trust, always named
    for trust, _ in made[1:]:
        assert trust.name not in body  # not in the page, the charts' JSON or the SVG
    codes = comparisons.anonymous_codes(NATIONAL, nm.pk, [t.pk for t, _ in made])
    for trust, _ in made[1:]:
        assert codes[trust.pk] in body
    assert "the others are anonymised" in _text(response)


@pytest.mark.django_db
def test_centre_setting_names_trusts_and_analysts_always_see_names(client, alice, nadia,
                                                                     named_world):
    nm, made = named_world
    url = reverse("reports:compare_measure", args=["national", nm.pk])
    body = _sign_in(client, nadia).get(url).content.decode()
    assert all(t.name in body for t, _ in made)
    ComparisonSetting.objects.create(pk=1, name_trusts=True)
    body = _sign_in(client, alice).get(url).content.decode()
    assert all(t.name in body for t, _ in made)


def test_anonymous_codes_are_stable_and_not_in_id_order():
    codes = comparisons.anonymous_codes("national", 7, range(1, 30))
    assert codes == comparisons.anonymous_codes("national", 7, range(1, 30))
    assert sorted(codes.values()) == sorted(f"Trust {c}" for c in
                                            [chr(65 + i) for i in range(26)] + ["AA", "AB",
                                                                                "AC"])
    in_id_order = [f"Trust {chr(65 + i)}" for i in range(26)] + ["Trust AA", "Trust AB",
                                                                  "Trust AC"]
    assert [codes[i] for i in range(1, 30)] != in_id_order
    assert comparisons.anonymous_codes("national", 8, range(1, 30)) != codes  # per comparison


# ---- constant query count: 3 and 200 trusts ----------------------------------------------


# Session, user, role map, the definition, its adopting trusts, the series, the period, the
# centre's setting; the list: session, user, role map, the series rows.
PAGE_QUERIES = 8
LIST_QUERIES = 4


def _page_queries(client, user, nm, django_assert_max_num_queries, limit):
    url = reverse("reports:compare_measure", args=["national", nm.pk])
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    assert response.status_code == 200
    with django_assert_max_num_queries(LIST_QUERIES):
        assert client.get(reverse("reports:compare")).status_code == 200
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("n", [3, 200])
def test_comparison_pages_keep_a_constant_query_count(client, nadia, alice, trust_a, n,
                                                      django_assert_max_num_queries):
    nm = national_measure(nadia)
    trusts_with_data(nm, nadia, n, first=trust_a)
    comparisons.build(NATIONAL, nm.pk)
    response = _page_queries(_sign_in(client, nadia), nadia, nm,
                             django_assert_max_num_queries, PAGE_QUERIES)
    assert f"from {n} trusts" in _text(response)
    client.logout()
    _page_queries(_sign_in(client, alice), alice, nm, django_assert_max_num_queries,
                  PAGE_QUERIES)


# ---- precomputed: rebuilt after data changes, debounced; nightly ----------------------------


@pytest.mark.django_db
def test_data_change_rebuilds_the_comparison(nadia, trust_a, quentin,
                                             django_capture_on_commit_callbacks):
    nm = national_measure(nadia)
    made = trusts_with_data(nm, nadia, 3, first=trust_a, months=MONTHS[:1])
    comparisons.build(NATIONAL, nm.pk)
    measure = made[0][1]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        measure_services.data_points_merge(
            measure=measure, rows=[{"period": MONTHS[1], "numerator": 7, "denominator": 10}],
            by=quentin)
    assert callbacks
    series = comparisons.series_of(NATIONAL, nm.pk)
    assert series.data["periods"] == [MONTHS[0].isoformat(), MONTHS[1].isoformat()]
    assert series.dirty_since is None  # the build took the mark


@pytest.mark.django_db
def test_debounce_one_build_per_mark(nadia):
    nm = national_measure(nadia)
    assert comparisons.request(NATIONAL, nm.pk) is True
    assert comparisons.request(NATIONAL, nm.pk) is False  # already wanted
    assert comparisons.claim(NATIONAL, nm.pk) is True
    assert comparisons.claim(NATIONAL, nm.pk) is False  # another worker finds no mark


@pytest.mark.django_db
def test_nightly_builds_every_comparison_and_drops_orphans(nadia, settings):
    from reports import tasks

    assert settings.CELERY_BEAT_SCHEDULE["nightly-comparisons"]["task"] == \
        "reports.tasks.build_all_comparisons"
    nm = national_measure(nadia)
    trusts_with_data(nm, nadia, 3, months=MONTHS[:2])
    ComparisonSnapshot.objects.create(kind=NATIONAL, object_id=99999, period=None,
                                      built_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert tasks.build_all_comparisons() >= 1
    assert comparisons.series_of(NATIONAL, nm.pk).n_trusts == 3
    assert not ComparisonSnapshot.objects.filter(object_id=99999).exists()


# ---- collaborative shared measures -------------------------------------------------------------


@pytest.mark.django_db
def test_shared_measure_is_comparable_with_two_trusts_and_named(client, trust_a, trust_b,
                                                                 alice, charlie):
    c = Collaborative.objects.create(
        name="Falls collaborative", topic="Falls", host_trust=trust_a, aim="Fewer falls.",
        start_date=dt.date(2025, 10, 1), end_date=dt.date(2027, 3, 31), created_by=alice)
    sm = SharedMeasure.objects.create(
        collaborative=c, name="Falls risk assessed", definition="Within 6 hours.",
        chart=Measure.Chart.P, direction=Measure.Direction.INCREASE)
    for trust, user, num in ((trust_a, alice, 8), (trust_b, charlie, 12)):
        Participation.objects.create(collaborative=c, trust=trust, status="accepted",
                                     invited_by=alice)
        project = ProjectFactory(trust=trust, lead=user)
        enrolment = Enrolment.objects.create(collaborative=c, project=project,
                                             requested_by=user,
                                             status=Enrolment.Status.APPROVED)
        measure = MeasureFactory(project=project, chart=Measure.Chart.P)
        Adoption.objects.create(shared_measure=sm, enrolment=enrolment, measure=measure,
                                version=1, adopted_by=user)
        points(measure, [(MONTHS[0], num, 20)])
    assert (SHARED, sm.pk) in comparisons.comparable_keys()
    assert comparisons.build(SHARED, sm.pk)
    response = _sign_in(client, alice).get(
        reverse("reports:compare_measure", args=["shared", sm.pk]))
    body = response.content.decode()
    assert trust_b.name in body  # collaborative members already see each other's teams
    assert "A funnel plot needs at least 3 trusts" in _text(response)


# ---- publishing and adopting -----------------------------------------------------------------


@pytest.mark.django_db
def test_analyst_publishes_a_definition_and_bad_input_saves_nothing(client, nadia):
    _sign_in(client, nadia)
    url = reverse("reports:national_measure_create")
    response = client.post(url, {"name": "", "topic": "Sepsis", "chart": "p"})
    assert response.status_code == 200
    assert "There is a problem" in _text(response)
    assert not comparisons.NationalMeasure.objects.exists()
    response = client.post(url, {
        "name": "Sepsis antibiotics within 1 hour", "topic": "Sepsis",
        "definition": "Adults with red-flag sepsis.", "numerator": "Within 1 hour",
        "denominator": "Adults with red-flag sepsis", "chart": "p", "rate_per": 1,
        "unit_label": "%", "direction": "increase", "frequency": "monthly"})
    assert response.status_code == 302
    nm = comparisons.NationalMeasure.objects.get()
    assert nm.published_by == nadia
    response = client.post(reverse("reports:comparison_setting"), {"name_trusts": "on"})
    assert response.status_code == 302
    assert comparisons.name_trusts_setting() is True


@pytest.mark.django_db
def test_qi_lead_adopts_by_linking_or_creating(client, nadia, quentin, trust_a):
    nm = national_measure(nadia)
    project = ProjectFactory(trust=trust_a)
    mine = MeasureFactory(project=project, chart=Measure.Chart.P, name="Our sepsis measure")
    MeasureFactory(project=project, chart=Measure.Chart.XMR, name="Not a P chart")
    _sign_in(client, quentin)
    url = reverse("reports:national_measure_adopt", args=[nm.pk])
    page = client.get(url).content.decode()
    assert "Our sepsis measure" in page and "Not a P chart" not in page
    response = client.post(url, {"how": "link"})
    assert "Choose the measure to link." in _text(response)
    assert not NationalAdoption.objects.exists()
    response = client.post(url, {"how": "link", "measure": mine.pk})
    assert response.status_code == 302
    assert NationalAdoption.objects.get().measure == mine
    response = client.post(url, {"how": "create", "project": project.pk})
    assert response.status_code == 302
    created = NationalAdoption.objects.exclude(measure=mine).get().measure
    assert created.project == project and created.chart == "p" and created.name == nm.name


@pytest.mark.django_db
def test_demo_seed_builds_two_comparisons():
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    kinds = set(ComparisonSnapshot.objects.filter(period=None, built_at__isnull=False)
                .values_list("kind", "n_trusts"))
    assert (NATIONAL, 3) in kinds and (SHARED, 3) in kinds
    assert DataPoint.objects.filter(measure__national_adoption__isnull=False).count() == 36
    series = ComparisonSnapshot.objects.get(kind=NATIONAL, period=None).data
    assert series["deciles"][-1]["n"] == 3
    assert np.isfinite(series["deciles"][-1]["p50"])
