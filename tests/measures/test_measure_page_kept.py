"""The measure page kept per version of its data (measures/page.py, issue 21): built once,
read from the cache after, never stale, its data table paged, and the same whatever the
number of points."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from measures import charts, services
from measures.models import DataPoint, Measure
from measures.page import TABLE_ROWS
from tests.factories import MeasureFactory, ProjectFactory

DEAD_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "dashboards": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                   "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on port 9
                   "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}},
}


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice)


@pytest.fixture
def reader(client, alice):
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def builds(monkeypatch):
    """How many times the page's chart was computed (the real function, counted)."""
    calls = []
    real = charts.measure_chart_context

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "measure_chart_context", counted)
    return calls


def _daily(measure, n, start=dt.date(2021, 1, 1)):
    DataPoint.objects.bulk_create([
        DataPoint(measure=measure, period=start + dt.timedelta(days=i), value=float(i % 7))
        for i in range(n)])


def _url(measure):
    return reverse("projects:measure_detail", args=[measure.project_id, measure.pk])


def test_the_chart_is_built_once_and_kept_until_the_data_changes(reader, project, alice,
                                                                  builds):
    measure = MeasureFactory(project=project, chart=Measure.Chart.XMR, target=None,
                             frequency=Measure.Frequency.MONTHLY)
    DataPoint.objects.bulk_create([DataPoint(measure=measure, period=dt.date(2020, m, 1),
                                             value=float(m)) for m in range(1, 13)])
    first = reader.get(_url(measure)).content.decode()
    again = reader.get(_url(measure)).content.decode()
    assert len(builds) == 1

    def chart(html):  # the kept part (the form tokens around it differ per request)
        return html[html.index('class="app-spc"'):html.index('id="chart-table"')]

    assert chart(again) == chart(first)
    measure.refresh_from_db()
    services.data_points_merge(measure=measure, by=alice, base_version=measure.data_version,
                               rows=[{"row": 1, "period": "2021-02-01", "value": 4321}])
    after = reader.get(_url(measure)).content.decode()
    assert len(builds) == 2 and "4,321" in after and "4,321" not in first
    services.measure_update(measure=Measure.objects.get(pk=measure.pk), by=alice, target=3)
    with_target = reader.get(_url(measure)).content.decode()
    assert len(builds) == 3 and "None set" in after and "None set" not in with_target


def test_points_added_outside_the_services_are_not_hidden_by_the_kept_chart(reader, project,
                                                                            builds):
    measure = MeasureFactory(project=project)
    _daily(measure, 20)
    reader.get(_url(measure))
    _daily(measure, 1, start=dt.date(2021, 1, 21))  # a write that bumps no version
    page = reader.get(_url(measure)).content.decode()
    assert len(builds) == 2 and "21 Jan 2021" in page


def test_the_table_shows_the_latest_page_and_links_to_the_others(reader, project):
    measure = MeasureFactory(project=project)
    _daily(measure, 2 * TABLE_ROWS + 50)
    page = reader.get(_url(measure)).content.decode()
    assert page.count('class="nhsuk-table__row"') == 50  # the latest rows
    assert "page 3 of 3" in page and "Earlier periods" in page and "Later periods" not in page
    assert "?table=2#chart-table" in page
    first = reader.get(_url(measure), {"table": "1"}).content.decode()
    assert first.count('class="nhsuk-table__row"') == TABLE_ROWS
    assert "1 Jan 2021" in first.split('id="chart-table"')[1]
    assert 'id="chart-table" open' in first  # a page asked for opens the table
    assert "?table=2#chart-table" in first and "Earlier periods" not in first
    for odd, shown in (("99", "page 3 of 3"), ("0", "page 1 of 3"), ("abc", "page 3 of 3")):
        assert shown in reader.get(_url(measure), {"table": odd}).content.decode(), odd
    # The chart itself still draws every point, whatever table page is shown.
    assert first.count('"2021-') == page.count('"2021-')


def test_a_short_measure_has_one_table_and_no_page_links(reader, project):
    measure = MeasureFactory(project=project)
    _daily(measure, 12)
    page = reader.get(_url(measure)).content.decode()
    assert page.count('class="nhsuk-table__row"') == 12
    assert "Earlier periods" not in page and "page 1 of" not in page


def test_a_kept_read_costs_the_same_queries_at_20_and_2000_points(
        reader, project, django_assert_max_num_queries):
    small, big = MeasureFactory(project=project), MeasureFactory(project=project)
    _daily(small, 20)
    _daily(big, 2000)
    reader.get(_url(small))
    with CaptureQueriesContext(connection) as kept_small:
        reader.get(_url(small))
    n = len(kept_small)
    reader.get(_url(big))
    with django_assert_max_num_queries(n):
        page = reader.get(_url(big))
    assert page.status_code == 200
    assert page.content.decode().count('class="nhsuk-table__row"') == TABLE_ROWS


def test_a_cache_that_is_down_costs_a_build_not_an_error(reader, project, settings, builds):
    settings.CACHES = DEAD_REDIS
    measure = MeasureFactory(project=project)
    _daily(measure, 30)
    for _ in range(2):
        response = reader.get(_url(measure))
        assert response.status_code == 200
        assert "app-spc__reading" in response.content.decode()
    assert len(builds) == 2


def test_a_kept_chart_is_never_shown_to_someone_who_may_not_see_the_measure(
        client, reader, project, charlie):
    """Access row (organisations/access.py through measure_for): the cache comes after the
    check, so a page kept for one reader is no way in for another."""
    measure = MeasureFactory(project=project)
    project.visibility = "team"
    project.save()
    _daily(measure, 10)
    assert reader.get(_url(measure)).status_code == 200
    reader.logout()
    client.force_login(charlie, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(_url(measure)).status_code == 404


def test_the_table_numbers_read_as_the_template_filter_wrote_them():
    """The kept table formats its numbers itself (12,000 of them at 2,000 daily points);
    each must read exactly as `floatformat:"-2"` did."""
    import random

    from django.template.defaultfilters import floatformat

    from measures.page import _num

    rng = random.Random(21)
    values = [0, 0.0, -0.0, 1, -1, 2.5, 0.005, 0.015, -0.005, -0.001, 2.001, 1e-9, 123456.789,
              -98765.4321, 1e15, 0.125, 0.135, 2.675, 1.005, None]
    values += [rng.uniform(-1e4, 1e4) for _ in range(2000)]
    values += [round(rng.uniform(-50, 50), rng.randint(0, 4)) for _ in range(2000)]
    values += [rng.randint(-10**6, 10**6) for _ in range(200)]
    for v in values:
        expected = "" if v is None else floatformat(v, "-2")
        assert _num(v) == expected, v
