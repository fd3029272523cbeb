"""Benchmark the API's lists and bulk ingest against a bare DRF endpoint, in one process.

Builds a throw-away database (SQLite by default; PostgreSQL when DATABASE_URL points at
one: the named database is dropped and created again, so give it its own name, e.g.
postgres://postgres@127.0.0.1:5432/qi_bench_api), then times with DRF's APIClient, each
request signed in with a real personal API token (the token lookup is part of every case):

- bare: a DRF APIView with the same authentication and permission classes returning a list
  of 10 small dicts (the floor: middleware, token lookup, DRF dispatch, JSON rendering);
- GET /api/v1/projects/ and /api/v1/data-points/?measure= with 10 and 1,000 rows behind
  them (a page of 50 is returned), and the project list as CSV (every row);
- POST /api/v1/measures/{id}/data-points/ with 10, 1,000 and 5,000 points (a fresh measure
  for each request), with an Idempotency-Key; the SPC refresh is enqueued to Celery's
  in-memory broker (not run), as with a real worker. One extra case runs the refresh
  eagerly in the request (the embedded mode) to show its cost.

Prints medians, requests or points per second and the ratio to the bare endpoint, and
appends them to bench/RESULTS.md under "## API throughput".

    python bench/bench_api.py                 # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qi_bench_api python bench/bench_api.py
    python bench/bench_api.py --repeat 5 --no-append

Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30, help="requests per read case")
    ap.add_argument("--ingest-repeat", type=int, default=8, help="requests per ingest case")
    ap.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md")
    return ap.parse_args(argv)


def _recreate_postgres(url: str) -> None:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(tmp: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        _recreate_postgres(url)
    else:
        url = f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}"
        os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qi_portal.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["API_USER_RATE"] = "1000000/min"  # the bench is not throttled
    os.environ["API_ANON_RATE"] = "1000000/min"
    import django

    django.setup()
    return url


def bare_view():
    from rest_framework.response import Response
    from rest_framework.views import APIView

    class Bare(APIView):
        def get(self, request):
            return Response([{"id": i, "name": f"Item {i}"} for i in range(10)])

    return Bare.as_view()


urlpatterns: list = []


def build_urls():
    from django.urls import include, path

    urlpatterns[:] = [path("bench-bare/", bare_view()), path("", include("qi_portal.urls"))]


def make_data():
    from django.core.management import call_command

    from measures.models import DataPoint, Measure
    from organisations import services as org_services
    from organisations.models import Membership, Region, Trust, User
    from projects.models import Project

    call_command("migrate", verbosity=0)
    region = Region.objects.create(code="Y56", name="London")
    users = {}
    measures = {}
    for n in (10, 1000):
        trust = Trust.objects.create(ods_code="ZBS" if n == 10 else "ZBL",
                                     name=f"Bench {n} NHS Trust", trust_type="acute",
                                     region=region, staff_headcount=5000)
        user = User.objects.create_user(f"clinician{n}@bench.nhs.uk", "x",
                                        full_name=f"Bench Clinician {n}")
        Membership.objects.create(user=user, trust=trust, role=Membership.Role.CLINICIAN)
        Project.objects.bulk_create(
            Project(trust=trust, lead=user, created_by=user, title=f"Project {i}",
                    aim="Reduce falls by 20% by 2027.", status="active", visibility="trust")
            for i in range(n))
        project = Project.objects.filter(trust=trust).first()
        measure = Measure.objects.create(project=project, name="Falls", kind="outcome",
                                         definition="Falls per day", frequency="daily",
                                         chart="xmr", direction="decrease")
        start = dt.date(2020, 1, 1)
        DataPoint.objects.bulk_create(
            DataPoint(measure=measure, period=start + dt.timedelta(days=i), value=i % 7)
            for i in range(n))
        users[n] = (user, org_services.api_token_create(by=user, name="Bench")[1], project)
        measures[n] = measure
    return users, measures


def per_point(n_points, user, project, repeat) -> float:
    """The upload page's path (one INSERT and one history row per point), for comparison."""
    from measures import services
    from measures.models import Measure

    rows = [{"row": i + 1, "period": dt.date(2000, 1, 1) + dt.timedelta(days=i),
             "value": i % 11} for i in range(n_points)]
    samples = []
    for _ in range(repeat + 1):
        measure = Measure.objects.create(project=project, name="Bench", kind="outcome",
                                         definition="Bench", frequency="daily", chart="xmr",
                                         direction="decrease")
        t = time.perf_counter()
        services.data_points_merge(measure=measure, rows=rows, by=user)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples[1:])


def timed(fn, repeat: int) -> float:
    fn()  # warm caches (URL resolver, serializers, prepared plans)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = setup_django(tmp)
        from django.db import connection
        from django.test.utils import override_settings
        from rest_framework.test import APIClient

        from measures.models import Measure
        from qi_portal.celery import app

        build_urls()
        t0 = time.perf_counter()
        users, measures = make_data()
        print(f"built the data in {time.perf_counter() - t0:.1f} s on {connection.vendor}")
        app.conf.task_always_eager = False  # enqueue to the in-memory broker, as to Redis
        rows = []

        def client_for(n):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {users[n][1]}")
            return client

        def get(client, path):
            def call():
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            return call

        with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
            bare = timed(get(client_for(10), "/bench-bare/"), args.repeat)
            rows.append(("bare DRF APIView (10 dicts)", "", bare, None))
            for n in (10, 1000):
                c = client_for(n)
                for label, path in (
                    ("GET /api/v1/projects/", "/api/v1/projects/"),
                    ("GET /api/v1/data-points/?measure=",
                     f"/api/v1/data-points/?measure={measures[n].pk}"),
                    ("GET /api/v1/projects/export/csv/ (every row)",
                     "/api/v1/projects/export/csv/"),
                ):
                    rows.append((label, f"{n:,}", timed(get(c, path), args.repeat), None))

            def ingest(n_points, client, project, eager=False):
                start = dt.date(2000, 1, 1)
                body = {"points": [{"period": (start + dt.timedelta(days=i)).isoformat(),
                                    "value": i % 11} for i in range(n_points)]}

                def call():
                    measure = Measure.objects.create(
                        project=project, name="Bench", kind="outcome", definition="Bench",
                        frequency="daily", chart="xmr", direction="decrease")
                    t = time.perf_counter()
                    response = client.post(f"/api/v1/measures/{measure.pk}/data-points/",
                                           body, format="json",
                                           HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
                    spent = time.perf_counter() - t
                    assert response.status_code == 200, response.content[:300]
                    assert response.json()["created"] == n_points
                    return spent

                call()
                app.conf.task_always_eager = eager
                samples = [call() for _ in range(args.ingest_repeat)]
                app.conf.task_always_eager = False
                return statistics.median(samples)

            user, _, project = users[10]
            c = client_for(10)
            for n_points in (10, 1000, 5000):
                rows.append((f"POST bulk ingest, {n_points:,} points", f"{n_points:,}",
                             ingest(n_points, c, project), n_points))
            rows.append(("POST bulk ingest, 5,000 points + eager SPC refresh", "5,000",
                         ingest(5000, c, project, eager=True), 5000))
            rows.append(("services.data_points_merge, 1,000 points (per-point path, "
                         "no HTTP)", "1,000", per_point(1000, user, project,
                                                        args.ingest_repeat), 1000))
    date = time.strftime("%Y-%m-%d")
    vendor = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    machine = (f"{vendor}, Python {platform.python_version()}, {os.cpu_count()} CPUs "
               "(shared container, other jobs running: ±30%)")
    print(f"\n{machine}")
    lines = []
    for label, size, median, points in rows:
        rate = (f"{points / median:,.0f} points/s" if points else f"{1 / median:,.0f} req/s")
        ratio = median / bare
        print(f"  {label:<55} {size:>6} {median * 1000:9.2f} ms  {rate:>16}  × {ratio:6.1f}")
        lines.append(f"| {date} | {vendor} | {label} | {size} | {median * 1000:.1f} ms | "
                     f"{rate} | {ratio:.1f} |")
    if not args.no_append:
        append_results(machine, lines)
        print("appended to bench/RESULTS.md")
    return 0


def append_results(machine: str, lines: list[str]) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    block = []
    if "## API throughput" not in text:
        block += ["", "## API throughput", "",
                  "`python bench/bench_api.py` (`make bench-api`; see its docstring). Each "
                  "request signs in with a personal API token; medians; × is the ratio to "
                  "the bare DRF endpoint of the same run. Rows: the data behind a list (a "
                  "page of 50 is returned) or the points posted."]
    block += ["", f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {machine}.",
              "", "| date | database | case | rows | median | throughput | × bare |",
              "| --- | --- | --- | --- | --- | --- | --- |", *lines]
    with results.open("a") as fh:
        fh.write(("\n" if not text.endswith("\n") else "") + "\n".join(block) + "\n")


if __name__ == "__main__":
    sys.exit(main())
