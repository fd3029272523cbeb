"""Cursor ("keyset") pages of the large API lists (core/pagination.py, issue 21): data points,
measures and PDSA cycles come in (updated_at, id) order with next/previous links, count only
when asked, and still answer the deprecated ?page= form the way they did."""

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.pagination import _encode
from measures.models import DataPoint
from pdsa.models import Cycle
from tests.factories import ChangeIdeaFactory, MeasureFactory, ProjectFactory

POINTS = "/api/v1/data-points/"


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice)


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def _points(measure, n, *, start=0, tie=None):
    """n monthly points; with `tie`, every one stamped with that same updated_at (the ties a
    bulk write leaves), so only the id orders them."""
    rows = DataPoint.objects.bulk_create([
        DataPoint(measure=measure, value=float(i),
                  period=dt.date(2000 + (start + i) // 12, (start + i) % 12 + 1, 1))
        for i in range(n)
    ])
    if tie is not None:
        DataPoint.objects.filter(pk__in=[r.pk for r in rows]).update(updated_at=tie)
    return rows


def _walk(client, url, params=None, key="next"):
    """Every page from url following `key` links; the ids in the order met, and the pages."""
    ids, pages = [], []
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        ids += [row["id"] for row in body["results"]]
        if not body[key]:
            return ids, pages
        response = client.get(body[key])


def test_next_links_walk_every_row_once_in_updated_at_id_order(api, project):
    measure = MeasureFactory(project=project)
    stamp = timezone.now() - dt.timedelta(days=1)
    tied = _points(measure, 7, tie=stamp)  # equal updated_at: the id breaks the tie
    later = _points(measure, 6, start=7)
    ids, pages = _walk(api, POINTS, {"page_size": 3})
    expected = [p.pk for p in sorted(
        DataPoint.objects.all(), key=lambda p: (p.updated_at, p.pk))]
    assert ids == expected and len(ids) == len(tied) + len(later)
    assert [len(p["results"]) for p in pages] == [3, 3, 3, 3, 1]
    assert pages[0]["previous"] is None and pages[1]["previous"]
    assert all("count" not in p for p in pages)  # no whole-list count unless asked
    assert ids[:7] == sorted(p.pk for p in tied)


def test_previous_links_walk_back_to_the_first_page(api, project):
    measure = MeasureFactory(project=project)
    _points(measure, 8, tie=timezone.now())
    forward, pages = _walk(api, POINTS, {"page_size": 3})
    back = api.get(pages[-1]["previous"]).json()
    assert [r["id"] for r in back["results"]] == forward[3:6]
    backward, _ = _walk(api, pages[-1]["previous"], key="previous")
    assert backward == forward[3:6] + forward[0:3]
    # The first page reached backwards offers the way forward again, and no way back.
    first = api.get(pages[1]["previous"]).json()
    assert [r["id"] for r in first["results"]] == forward[:3]
    assert first["previous"] is None
    assert [r["id"] for r in api.get(first["next"]).json()["results"]] == forward[3:6]


def test_a_row_changed_while_paging_is_met_again_at_the_end(api, project):
    """What an incremental sync needs: a change made between two pages is not missed."""
    measure = MeasureFactory(project=project)
    rows = _points(measure, 6, tie=timezone.now() - dt.timedelta(hours=1))
    first = api.get(POINTS, {"page_size": 3}).json()
    DataPoint.objects.filter(pk=rows[0].pk).update(
        value=99, updated_at=timezone.now())  # already read on page one
    rest, _ = _walk(api, first["next"])
    assert rest == [r.pk for r in rows[3:]] + [rows[0].pk]


def test_count_only_when_asked_and_page_size_is_bounded(api, project):
    measure = MeasureFactory(project=project)
    _points(measure, 5)
    counted = api.get(POINTS, {"count": "true", "page_size": 2}).json()
    assert counted["count"] == 5 and len(counted["results"]) == 2
    assert "count=" not in counted["next"]  # asked once, not on every page
    for bad in ("0", "1001", "ten", "-1"):
        response = api.get(POINTS, {"page_size": bad})
        assert response.status_code == 400, bad
        assert list(response.json()["errors"]) == ["page_size"], bad
    assert len(api.get(POINTS, {"page_size": 1000}).json()["results"]) == 5


@pytest.mark.parametrize("cursor", [
    "nonsense", "e30", _encode(True, timezone.now(), 1)[:-3] + "!!!",
    # Well formed but not ours: wrong shapes inside.
    "WyJ4IiwgIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLCAxXQ",  # ["x", "2026-…", 1]
    "WyJuIiwgIjIwMjYtMDEtMDEiLCAxXQ",  # ["n", "2026-01-01", 1]: no time zone
    "WyJuIiwgIjIwMjYtMDEtMDFUMDA6MDA6MDArMDA6MDAiLCAiMSJd",  # pk as text
])
def test_a_cursor_not_given_by_the_api_is_a_clear_400(api, project, cursor):
    response = api.get(POINTS, {"cursor": cursor})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]
    assert "next or previous link" in str(response.json()["errors"]["cursor"])


def test_the_deprecated_page_form_still_answers_as_before(api, project):
    """Clients written for ?page= keep working: same order (measure, period), count and
    page links, now marked deprecated with a link to the cursor form."""
    first_m, second_m = MeasureFactory(project=project), MeasureFactory(project=project)
    _points(second_m, 3)
    _points(first_m, 3)  # changed later, listed first by the old order
    response = api.get(POINTS, {"page": 1})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6 and body["next"] is None
    assert [r["measure"] for r in body["results"]] == [first_m.pk] * 3 + [second_m.pk] * 3
    assert response["Deprecation"] == "true"
    assert 'rel="successor-version"' in response["Link"] and "page=" not in response["Link"]
    assert api.get(POINTS, {"page": 9}).status_code == 404  # as before: no such page
    # The cursor form lists oldest change first instead.
    assert [r["measure"] for r in api.get(POINTS).json()["results"]] == (
        [second_m.pk] * 3 + [first_m.pk] * 3)


def test_cycles_stay_newest_first_and_sync_oldest_first(api, project, alice):
    idea = ChangeIdeaFactory(project=project)
    now = timezone.now()
    cycles = [Cycle.objects.create(change_idea=idea, number=n, objective="o", created_by=alice)
              for n in range(1, 6)]
    for age, cycle in enumerate(cycles):
        Cycle.objects.filter(pk=cycle.pk).update(updated_at=now - dt.timedelta(minutes=age))
    newest, _ = _walk(api, "/api/v1/pdsa-cycles/", {"page_size": 2})
    assert newest == [c.pk for c in cycles]  # cycles[0] changed last
    back, _ = _walk(api, _walk(api, "/api/v1/pdsa-cycles/", {"page_size": 2})[1][-1][
        "previous"], key="previous")
    assert back == [c.pk for c in cycles[2:4]] + [c.pk for c in cycles[0:2]]
    oldest, _ = _walk(api, "/api/v1/pdsa-cycles/",
                      {"page_size": 2, "updated_since": "2000-01-01"})
    assert oldest == [c.pk for c in reversed(cycles)]


def test_an_outsider_walking_cursors_sees_none_of_another_trusts_rows(project, charlie):
    """Access row (organisations/access.py via the visible-project selectors): a cursor only
    says where to start, never what may be seen; even one made up to point into another
    trust's rows lists nothing of theirs."""
    _points(MeasureFactory(project=project), 4)
    outsider = APIClient()
    outsider.force_authenticate(charlie)
    theirs = DataPoint.objects.order_by("updated_at", "id").first()
    for url in (POINTS, "/api/v1/measures/", "/api/v1/pdsa-cycles/"):
        assert outsider.get(url).json()["results"] == [], url
    made_up = _encode(True, theirs.updated_at - dt.timedelta(days=1), 0)
    assert outsider.get(POINTS, {"cursor": made_up}).json()["results"] == []
    assert outsider.get(POINTS, {"page": 1}).json()["count"] == 0


@pytest.mark.parametrize("url", [POINTS, "/api/v1/measures/", "/api/v1/pdsa-cycles/"])
def test_a_late_page_costs_the_same_queries_as_the_first(url, api, project, alice,
                                                         django_assert_max_num_queries):
    """Pinned at two sizes: the tenth page of 500 rows costs what the first of 50 did."""
    def grow(n):
        for i in range(n):
            measure = MeasureFactory(project=project)
            _points(measure, 9, start=i)
            Cycle.objects.create(change_idea=ChangeIdeaFactory(project=project), number=1,
                                 objective="o", created_by=alice)

    grow(6)
    with CaptureQueriesContext(connection) as small:
        assert api.get(url, {"page_size": 5}).status_code == 200
    first_page = len(small)  # now: the query log is a bounded deque that grow() overruns
    assert first_page >= 2
    grow(60)
    _, pages = _walk(api, url, {"page_size": 5})
    late = pages[len(pages) // 2]["next"]
    with django_assert_max_num_queries(first_page):
        assert len(api.get(late).json()["results"]) == 5


def test_the_schema_documents_cursor_pages_and_the_deprecated_page(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/data-points/", "/api/v1/measures/", "/api/v1/pdsa-cycles/"):
        params = {p["name"]: p for p in schema["paths"][path]["get"]["parameters"]}
        assert {"cursor", "page_size", "count", "page"} <= set(params), path
        assert params["page"].get("deprecated") is True, path
        assert params["page_size"]["schema"]["maximum"] == 1000, path
        ref = schema["paths"][path]["get"]["responses"]["200"]["content"][
            "application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        body = schema["components"]["schemas"][ref]
        assert set(body["required"]) == {"next", "previous", "results"}, path
        assert "count" in body["properties"], path


def test_links_keep_the_filters(api, project):
    measure = MeasureFactory(project=project)
    other = MeasureFactory(project=project)
    _points(measure, 4)
    _points(other, 4)
    ids, pages = _walk(api, POINTS, {"measure": measure.pk, "page_size": 3})
    assert len(ids) == 4 and set(DataPoint.objects.get(pk=i).measure_id for i in ids) == {
        measure.pk}
    query = parse_qs(urlparse(pages[0]["next"]).query)
    assert query["measure"] == [str(measure.pk)] and query["page_size"] == ["3"]
