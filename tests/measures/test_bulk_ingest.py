"""Issue 15.4: bulk ingest that scales — POST /api/v1/measures/{id}/data-points/ takes
5,000 points as JSON or CSV in one call, all or nothing with the bad row named, idempotent
with an Idempotency-Key, written in a constant number of statements."""

import datetime as dt
import threading

import pytest
from django.db import connection, connections
from django.utils import timezone
from rest_framework.test import APIClient

from measures.bulk import BARE_LIST
from measures.models import DataPoint, IdempotencyKey, Measure
from measures.services import BULK_MAX_POINTS
from tests.factories import MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db

START = dt.date(2010, 1, 1)
# Every query of one call, whatever the number of points: session/user, measure, lock,
# existing points, upsert, history, version bump, dirty marks, key lookup/cleanup/insert.
MAX_QUERIES = 18


@pytest.fixture
def project(alice, trust_a):
    return ProjectFactory(trust=trust_a, lead=alice)


@pytest.fixture
def measure(project):
    return MeasureFactory(project=project, frequency=Measure.Frequency.DAILY,
                          chart=Measure.Chart.XMR)


@pytest.fixture
def api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


def points(n, *, start=START, value=lambda i: i % 17):
    return [{"period": (start + dt.timedelta(days=i)).isoformat(), "value": value(i),
             "note": "Huddle started" if i == 0 else ""} for i in range(n)]


def url(measure):
    return f"/api/v1/measures/{measure.pk}/data-points/"


def state(measure):
    return (DataPoint.objects.filter(measure=measure).count(),
            DataPoint.history.filter(measure_id=measure.pk).count(),
            Measure.objects.get(pk=measure.pk).data_version)


@pytest.mark.parametrize("n", [10, 5000])
def test_a_call_costs_the_same_queries_for_10_or_5000_points(
        n, api, measure, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with django_assert_max_num_queries(MAX_QUERIES):
            r = api.post(url(measure), {"points": points(n)}, format="json",
                         HTTP_IDEMPOTENCY_KEY=f"load-{n}")
    assert r.status_code == 200, r.content[:500]
    assert r.json() == {"created": n, "updated": 0}
    assert state(measure) == (n, n, 1)
    assert len(callbacks) == 1  # one SPC refresh for the whole call
    saved = DataPoint.objects.get(measure=measure, period=START)
    assert (saved.value, saved.annotation, saved.version) == (0.0, "Huddle started", 1)
    last = DataPoint.objects.get(measure=measure, period=START + dt.timedelta(days=n - 1))
    assert last.value == float((n - 1) % 17)
    history = DataPoint.history.filter(measure_id=measure.pk)
    assert set(history.values_list("history_type", flat=True)) == {"+"}
    assert set(history.values_list("history_user_id", flat=True)) == {measure.project.lead_id}


def test_the_refresh_runs_once_and_sees_every_point(api, measure,
                                                    django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(url(measure), {"points": points(300)}, format="json").status_code == 200
    measure.refresh_from_db()
    assert measure.snapshot.n_points == 300
    assert measure.dirty_since is None


def test_a_retry_with_the_same_key_changes_nothing(api, measure):
    body = {"points": points(5000)}
    first = api.post(url(measure), body, format="json", HTTP_IDEMPOTENCY_KEY="upload-42")
    assert first.status_code == 200
    before = state(measure)
    assert before == (5000, 5000, 1)
    again = api.post(url(measure), body, format="json", HTTP_IDEMPOTENCY_KEY="upload-42")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert state(measure) == before
    assert IdempotencyKey.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_saves_nothing(api, measure):
    assert api.post(url(measure), {"points": points(5)}, format="json",
                    HTTP_IDEMPOTENCY_KEY="k1").status_code == 200
    before = state(measure)
    r = api.post(url(measure), {"points": points(5, start=dt.date(2020, 1, 1))},
                 format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert r.status_code == 422
    assert "different request" in r.json()["detail"]
    assert state(measure) == before


def test_a_key_is_per_caller(api, measure, project, quentin):
    body = {"points": points(3)}
    assert api.post(url(measure), body, format="json",
                    HTTP_IDEMPOTENCY_KEY="shared").status_code == 200
    other = APIClient()
    other.force_authenticate(quentin)
    r = other.post(url(measure), {"points": points(3, start=dt.date(2021, 1, 1))},
                   format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert r.status_code == 200 and r.json() == {"created": 3, "updated": 0}


def test_a_key_expires_after_a_day(api, measure):
    assert api.post(url(measure), {"points": points(2)}, format="json",
                    HTTP_IDEMPOTENCY_KEY="daily").status_code == 200
    IdempotencyKey.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    r = api.post(url(measure), {"points": points(2, start=dt.date(2022, 1, 1))},
                 format="json", HTTP_IDEMPOTENCY_KEY="daily")
    assert r.status_code == 200 and r.json()["created"] == 2
    assert IdempotencyKey.objects.count() == 1  # the expired one was cleaned up
    assert IdempotencyKey.objects.get().created_at > timezone.now() - dt.timedelta(hours=1)


def test_one_bad_row_rejects_the_whole_call_and_names_it(api, measure):
    body = points(5000)
    body[3216]["value"] = "about seven"  # row 3,217
    r = api.post(url(measure), {"points": body}, format="json", HTTP_IDEMPOTENCY_KEY="bad")
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"row": 3217, "column": "value", "message": "The value must be a number"}]
    assert state(measure) == (0, 0, 0)
    assert not IdempotencyKey.objects.exists()  # a rejected call may be fixed and retried
    body[3216]["value"] = 7
    assert api.post(url(measure), {"points": body}, format="json",
                    HTTP_IDEMPOTENCY_KEY="bad").status_code == 200


def test_patient_data_in_a_note_and_duplicate_periods_are_named(api, measure):
    body = points(10)
    body[4]["note"] = "Patient 943 476 5919 fell"
    body[8]["period"] = body[2]["period"]
    errors = api.post(url(measure), {"points": body}, format="json").json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(5, "annotation"), (9, "period")}
    assert "also row 3" in next(e["message"] for e in errors if e["row"] == 9)
    assert state(measure) == (0, 0, 0)


def test_a_csv_body_is_accepted(api, measure):
    lines = ["period,value,note,rebaseline"] + [
        f"{START + dt.timedelta(days=i)},{i},,{'yes' if i == 3 else 'no'}" for i in range(2500)]
    r = api.generic("POST", url(measure), "\r\n".join(lines).encode(),
                    content_type="text/csv", HTTP_IDEMPOTENCY_KEY="csv-1")
    assert r.status_code == 200, r.content[:300]
    assert r.json() == {"created": 2500, "updated": 0}
    assert DataPoint.objects.get(measure=measure, period=START + dt.timedelta(days=3)).rebaseline
    assert state(measure) == (2500, 2500, 1)


def test_a_bad_csv_row_is_named_by_its_line(api, measure):
    lines = ["period,value", "2010-01-01,1", "2010-01-02,2", "2010-01-0x,3"]
    r = api.generic("POST", url(measure), "\n".join(lines), content_type="text/csv")
    assert r.status_code == 400
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(4, "period")]
    missing = api.generic("POST", url(measure), "period,note\n2010-01-01,x",
                          content_type="text/csv")
    assert missing.status_code == 400
    assert "‘value’" in missing.json()["errors"][0]["message"]
    assert state(measure) == (0, 0, 0)


def test_a_bare_list_gets_the_shape_it_should_send(api, measure):
    r = api.post(url(measure), points(3), format="json")
    assert r.status_code == 400
    assert r.json()["detail"] == BARE_LIST
    assert '{"points": [' in r.json()["detail"]
    assert state(measure) == (0, 0, 0)


def test_too_many_points_is_413(api, measure):
    r = api.post(url(measure), {"points": points(BULK_MAX_POINTS + 1)}, format="json")
    assert r.status_code == 413
    assert f"{BULK_MAX_POINTS:,}" in r.json()["detail"]
    big = b'{"points": [' + b",".join(
        b'{"period": "2010-01-01", "value": 1, "note": "' + b"x" * 190 + b'"}'
        for _ in range(15000)) + b"]}"  # 3.5 MB, over DATA_UPLOAD_MAX_MEMORY_SIZE
    r = api.generic("POST", url(measure), big, content_type="application/json")
    assert r.status_code == 413 and "2.5 MB" in r.json()["detail"]
    assert state(measure) == (0, 0, 0)


def test_existing_periods_follow_the_conflict_rules(api, measure):
    assert api.post(url(measure), {"points": points(4)}, format="json").status_code == 200
    changed = points(6, value=lambda i: 100 + i)
    # Without a base version a different saved value is not overwritten: 409, nothing saved.
    r = api.post(url(measure), {"points": changed}, format="json")
    assert r.status_code == 409
    assert r.json()["data_version"] == 1 and len(r.json()["current"]) == 4
    assert state(measure) == (4, 4, 1)
    # Reject mode names each period that already has a point.
    r = api.post(url(measure), {"points": changed, "on_existing": "reject",
                                "base_version": 1}, format="json")
    assert r.status_code == 400
    assert [e["row"] for e in r.json()["errors"]] == [1, 2, 3, 4]
    # With the version read, they are replaced: 4 updated ('~' in history), 2 added.
    r = api.post(url(measure), {"points": changed, "base_version": 1}, format="json")
    assert r.json() == {"created": 2, "updated": 4}
    assert state(measure) == (6, 10, 2)
    kinds = sorted(DataPoint.history.filter(measure_id=measure.pk, version=2)
                   .values_list("history_type", flat=True))
    assert kinds == ["+", "+", "~", "~", "~", "~"]
    assert DataPoint.objects.get(measure=measure, period=START).value == 100
    # A base version older than someone else's change: 409.
    r = api.post(url(measure), {"points": points(2, value=lambda i: 7), "base_version": 1},
                 format="json")
    assert r.status_code == 409
    # Sending the saved values again changes nothing, not even the version.
    r = api.post(url(measure), {"points": changed}, format="json")
    assert r.json() == {"created": 0, "updated": 0}
    assert state(measure) == (6, 10, 2)


def test_a_ratio_measure_takes_numerators_and_denominators(api, project):
    measure = MeasureFactory(project=project, chart=Measure.Chart.P,
                             frequency=Measure.Frequency.MONTHLY)
    body = [{"period": f"{2000 + i // 12}-{i % 12 + 1:02d}-01", "numerator": i % 5,
             "denominator": 10} for i in range(240)]
    r = api.post(url(measure), {"points": body}, format="json")
    assert r.json() == {"created": 240, "updated": 0}
    saved = DataPoint.objects.get(measure=measure, period=dt.date(2000, 3, 1))
    assert (saved.numerator, saved.denominator, saved.value) == (2, 10, None)


def test_a_bad_idempotency_key_is_400(api, measure):
    r = api.post(url(measure), {"points": points(1)}, format="json",
                 HTTP_IDEMPOTENCY_KEY="x" * 201)
    assert r.status_code == 400
    assert "Idempotency-Key" in r.json()["detail"]


def test_the_schema_documents_the_bulk_errors(api):
    schema = api.get("/api/schema/?format=json").json()
    op = schema["paths"]["/api/v1/measures/{id}/data-points/"]["post"]
    assert {"400", "409", "413", "422"} <= set(op["responses"])
    assert "text/csv" in op["requestBody"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in op["parameters"])


def test_odd_input_is_a_clear_400_not_a_500(api, measure):
    cases = [
        {"points": [{"period": "2010-01-01", "value": 1, "note": "a\u0000b"}]},
        {"points": "2010-01-01"},
        {"points": [{"period": {"y": 2010}, "value": [1]}]},
        {"points": [{"period": "2010-01-01", "value": 1}], "base_version": -1},
        {"points": [{"period": "2010-01-01", "value": 1}], "on_existing": "merge"},
    ]
    for body in cases:
        r = api.post(url(measure), body, format="json")
        assert r.status_code == 400, (body, r.status_code)
        assert r.json()["detail"]
    nul = api.post(url(measure), cases[0], format="json").json()["errors"]
    assert nul == [{"row": 1, "column": "annotation",
                    "message": "Remove the NUL character (\\u0000) or invalid character "
                               "from this cell"}]
    lone = api.generic("POST", url(measure), b'{"points": [{"period": "2010-01-01", '
                       b'"value": 1, "note": "\\ud800"}]}', content_type="application/json")
    assert lone.status_code == 400 and lone.json()["errors"][0]["column"] == "annotation"
    assert api.post(url(measure), {"points": []}, format="json").json() == {
        "created": 0, "updated": 0}
    assert state(measure) == (0, 0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_calls_racing_with_one_key_write_once(alice, trust_a):
    """PostgreSQL: the same call sent twice at once (a client retrying on a timeout). One is
    answered 200; the other replays it, or (if it started before the first committed) is
    told the key is busy; either way the data is written once."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL): SQLite serialises all writers")
    measure = MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice),
                             frequency=Measure.Frequency.DAILY)
    body = {"points": points(2000)}
    answers = []
    barrier = threading.Barrier(2)

    def send():
        client = APIClient()
        client.force_authenticate(alice)
        barrier.wait()
        try:
            answers.append(client.post(url(measure), body, format="json",
                                       HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(r.status_code for r in answers)
    assert codes in ([200, 200], [200, 409]), codes
    assert {"created": 2000, "updated": 0} in [r.json() for r in answers]
    assert state(measure) == (2000, 2000, 1)
    assert IdempotencyKey.objects.filter(key="race").count() == 1
