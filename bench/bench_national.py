"""The national-scale benchmark (issue 12): generate the country, then time what grows.

A fresh PostgreSQL database is filled with COPY (about 200 trusts, 20,000 projects,
60,000 measures, 3 million data points and 200,000 PDSA cycles at --scale 1), then each
figure is taken as a ratio against a baseline measured in the same run:

(a) the full national rebuild (`reports.tasks.national_rebuild`: chunks of measures on the
    "bulk" queue) on 1 and on 2 real Celery worker processes, against reading every data
    point from PostgreSQL in one query;
(b) the trust dashboard of a 100-project trust (as its board member) against the portal's
    bare page (base.html for the signed-in reader: header, menu, footer, nothing else) and
    against a bare Django view through the same middleware; kept (what every reader after
    the first gets) and built (after a write marked the trust's copies out of date); and
    the 500-project trust against the 5-project one;
(c) a data point saved through the services → its snapshot rebuilt by a live worker on the
    interactive queue → the trust's dashboard showing the new value, in seconds;
(d) the peak memory (VmHWM) of the worker processes during the rebuild;
(e) the national project list as the national analyst (first page, a search, a unit typed
    in the filter) against the bare portal page;
(f) the data-points API against a bare DRF view; (g) a 2,000-point measure page;
(h) a board pack of the 100-project trust 3: its HTML and WeasyPrint's PDF, in seconds.
The learning repository's search is timed on its own richer text by bench/bench_search.py.

    make bench-national                       # the whole country (several minutes)
    python bench/bench_national.py --scale 0.05 --no-append   # a quick check

Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and Redis on 6379 (database 14 is
flushed). Prints the figures and appends them to bench/RESULTS.md. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("PG_URL_BASE", "postgres://postgres@127.0.0.1:5432")
DB = "qi_bench_national"
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1 = the whole country")
    ap.add_argument("--repeat", type=int, default=20, help="requests per page case")
    ap.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the database of the last run: time the pages and the write only")
    return ap.parse_args(argv)


def fresh_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")


def environment() -> dict:
    return {
        **os.environ, "DATABASE_URL": f"{PG}/{DB}", "REDIS_URL": REDIS, "DEBUG": "false",
        "SECRET_KEY": "bench-national-" + "x" * 40, "ALLOWED_HOSTS": "testserver,127.0.0.1",
        "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "qi_portal.settings", "PYTHONDONTWRITEBYTECODE": "1",
    }


def setup_django() -> None:
    os.environ.update(environment())
    import django

    django.setup()


# ---- the generator ---------------------------------------------------------------------------


class Copier:
    """COPY rows of a model into its table, filling every column the caller does not give
    from the field's default (evaluated once), or NULL / blank, as Django would."""

    def __init__(self, connection):
        self.connection = connection

    def copy(self, model, columns: list[str], rows) -> int:
        from django.db import models

        now = dt.datetime.now(dt.UTC)
        fields = [f for f in model._meta.concrete_fields if not f.primary_key or f.attname
                  in columns]
        given = set(columns)
        filler = {}
        for f in fields:
            if f.attname in given:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                filler[f.attname] = now
            elif f.has_default():
                filler[f.attname] = f.get_default()
            elif f.null:
                filler[f.attname] = None
            elif isinstance(f, models.CharField | models.TextField):
                filler[f.attname] = ""
            else:
                raise ValueError(f"{model.__name__}.{f.attname} needs a value")
        order = columns + list(filler)
        tail = tuple(self._adapt(v) for v in filler.values())
        n = 0
        with self.connection.cursor() as cursor:
            raw = cursor.cursor
            sql = (f"COPY {model._meta.db_table} ({', '.join(order)}) FROM STDIN")
            with raw.copy(sql) as copy:
                for row in rows:
                    copy.write_row(tuple(row) + tail)
                    n += 1
        return n

    @staticmethod
    def _adapt(value):
        from psycopg.types.json import Jsonb

        if isinstance(value, dict | list):
            return Jsonb(value)
        return value


def generate(scale: float, seed: int = 20261202) -> dict:
    """The synthetic country. Returns the ids the timings need."""
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from measures.models import DataPoint, Measure
    from organisations.models import Membership, Region, Trust, Unit, User
    from pdsa.models import Cycle
    from projects.models import ChangeIdea, Driver, Project

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    cp = Copier(connection)
    n_trusts = max(3, round(200 * scale))
    # Most trusts run 100 projects; trust 1 runs 5 and trust 2 runs 500, so the dashboard
    # can be timed across trust sizes.
    size_of = {1: 5, 2: 500}
    n_regions = 7
    counts = {}
    counts["regions"] = cp.copy(Region, ["id", "code", "name"], (
        (i, f"Y{60 + i}", f"Region {i}") for i in range(1, n_regions + 1)))
    counts["trusts"] = cp.copy(Trust, ["id", "ods_code", "name", "trust_type", "region_id",
                                       "staff_headcount"], (
        (t, f"Z{t:02d}" if t < 100 else f"{chr(65 + t // 100)}{t % 100:02d}",
         f"Bench Trust {t}", ["acute", "mental_health", "community"][t % 3],
         1 + t % n_regions, 2000 + (t * 37) % 12000) for t in range(1, n_trusts + 1)))
    # Units: per trust 5 divisions × 8 wards (a materialised path like the services write).
    units, unit_rows, uid = {}, [], 0
    for t in range(1, n_trusts + 1):
        for d in range(5):
            uid += 1
            div = uid
            unit_rows.append((div, t, None, f"Division {d}", "division", f"{div:07d}/", 0))
            for w in range(8):
                uid += 1
                unit_rows.append((uid, t, div, f"Ward {d}-{w}", "ward",
                                  f"{div:07d}/{uid:07d}/", 1))
                units.setdefault(t, []).append(uid)
    counts["units"] = cp.copy(Unit, ["id", "trust_id", "parent_id", "name", "kind", "path",
                                     "depth"], unit_rows)
    password = make_password("bench-national")
    # Per trust: a board member (for the dashboard timing) and 10 clinicians who lead.
    user_rows, member_rows, uid, mid = [], [], 0, 0
    board_of, staff_of = {}, {}
    for t in range(1, n_trusts + 1):
        for k in range(11):
            uid += 1
            role = "board_member" if k == 0 else "clinician"
            user_rows.append((uid, password, f"u{uid}@t{t}.bench.nhs.uk", f"Person {uid}"))
            mid += 1
            member_rows.append((mid, uid, t, role))
            (board_of.__setitem__(t, uid) if k == 0 else staff_of.setdefault(t, []).append(uid))
    counts["users"] = cp.copy(User, ["id", "password", "email", "full_name"], user_rows)
    cp.copy(Membership, ["id", "user_id", "trust_id", "role"], member_rows)

    today = dt.date(2026, 12, 1)
    statuses = ["proposed", "active", "active", "active", "sustaining", "completed"]
    words = ("falls sepsis discharge pressure ulcers medication theatre outpatient frailty "
             "delirium handover nutrition").split()

    leads = [None]
    themes = ["", "Patient safety", "Patient flow", "Workforce", "Patient experience",
              "Reducing restrictive practice", "Sustainability"]

    def project_rows():
        pid = 0
        for t in range(1, n_trusts + 1):
            for _ in range(size_of.get(t, 100)):
                pid += 1
                lead = rng.choice(staff_of[t])
                leads.append(lead)
                yield (pid, t, rng.choice(units[t]),
                       f"Improving {rng.choice(words)} and {rng.choice(words)} {pid}",
                       f"Reduce {rng.choice(words)} by {rng.randint(10, 50)}% by 2027.",
                       lead, lead, rng.choice(statuses), rng.choice(["trust", "everyone"]),
                       rng.choice([1.0, 2.0, 2.5, 3.0, 3.5, 4.0]),
                       today - dt.timedelta(days=rng.randint(0, 120)), rng.choice(themes))

    counts["projects"] = cp.copy(Project, [
        "id", "trust_id", "unit_id", "title", "aim", "lead_id", "created_by_id", "status",
        "visibility", "progress_score", "progress_scored_on", "strategic_theme"],
        project_rows())
    n_projects = counts["projects"]
    cp.copy(Driver, ["id", "project_id", "text"], ((p, p, "Reliable processes")
                                                    for p in range(1, n_projects + 1)))
    cp.copy(ChangeIdea, ["id", "project_id", "text"], ((p, p, "Safety huddle")
                                                        for p in range(1, n_projects + 1)))
    # 3 measures a project: XmR, P and run charts, 50 months each.
    charts = [("xmr", "decrease"), ("p", "increase"), ("run", "decrease")]
    counts["measures"] = cp.copy(Measure, [
        "id", "project_id", "name", "kind", "definition", "frequency", "chart", "direction",
        "target", "position"], (
        (3 * (p - 1) + k + 1, p, f"Measure {k}", "outcome", "Monthly count.", "monthly",
         charts[k][0], charts[k][1], [None, 0.8, None][k], k)
        for p in range(1, n_projects + 1) for k in range(3)))
    months = [dt.date(2022 + m // 12, m % 12 + 1, 1) for m in range(50)]

    def point_rows():
        for mid_ in range(1, counts["measures"] + 1):
            chart = charts[(mid_ - 1) % 3][0]
            level = rng.uniform(5, 40)
            shift = rng.randrange(20, 50)
            for i, month in enumerate(months):
                base = level * (0.7 if i >= shift else 1.0)
                if chart == "p":
                    den = rng.randint(40, 60)
                    yield (mid_, month, None, min(den, max(0, round(base))), den)
                else:
                    yield (mid_, month, round(rng.gauss(base, base * 0.15 + 0.5), 1), None, None)

    counts["points"] = cp.copy(DataPoint, ["measure_id", "period", "value", "numerator",
                                           "denominator"], point_rows())

    def cycle_rows():
        cid = 0
        for p in range(1, n_projects + 1):
            for n in range(1, 11):
                cid += 1
                yield (cid, p, n, "Test the huddle on one shift", "It will help",
                       "complete" if n < 10 else "planning", leads[p])

    counts["cycles"] = cp.copy(Cycle, ["id", "change_idea_id", "number", "objective",
                                       "prediction", "status", "created_by_id"], cycle_rows())
    with connection.cursor() as cursor:  # the next ids after the ones COPY set by hand
        for model in (Region, Trust, Unit, User, Membership, Project, Driver, ChangeIdea,
                      Measure, Cycle):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
        # What autovacuum would have done on a live database: statistics, and the
        # visibility map that lets PostgreSQL count from an index.
        cursor.execute("VACUUM ANALYZE")
    return {"counts": counts, "board_of": board_of, "measure_of_trust_1": 1}


# ---- the timings -------------------------------------------------------------------------------


def raw_read_seconds() -> float:
    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(f"{PG}/{DB}") as conn, conn.cursor(name="all_points") as cur:
        cur.itersize = 50_000
        cur.execute("SELECT measure_id, period, value, numerator, denominator, rebaseline "
                    "FROM measures_datapoint ORDER BY measure_id, period")
        n = sum(1 for _ in cur)
    elapsed = time.perf_counter() - t0
    print(f"  raw read of {n:,} points: {elapsed:.1f} s")
    return elapsed


class Workers:
    """Real Celery worker processes (prefork, `concurrency` children) on one queue."""

    def __init__(self, queue: str, concurrency: int, log: Path):
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "qi_portal", "worker",
             "-Q", queue, f"--concurrency={concurrency}", "--pool=prefork", "--loglevel=INFO",
             "--without-heartbeat", "--without-gossip", "--without-mingle",
             "-n", f"bench-{queue}-{concurrency}@%h"],
            cwd=ROOT, env=environment(), stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        time.sleep(4)  # ready: the app is loaded before the first task arrives

    def peak_rss_mb(self) -> float:
        total = 0
        for pid in [self.proc.pid, *self._children()]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total = max(total, int(line.split()[1]))
            except FileNotFoundError:
                pass
        return total / 1024

    def _children(self):
        try:
            out = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except FileNotFoundError:
            return []
        return [int(p) for p in out.split()]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def rebuild_seconds(workers: int) -> tuple[float, float]:
    """national_rebuild through the broker on `workers` processes, until every snapshot
    is newer than the start. Returns (seconds, peak RSS of one process in MB)."""
    from django.utils import timezone

    from measures.models import Measure, MeasureSnapshot
    from reports.tasks import national_rebuild

    MeasureSnapshot.objects.all().delete()
    total = Measure.objects.count()
    pool = Workers("bulk", workers, ROOT / ".ci" / "logs" / f"bench-bulk-{workers}.log")
    try:
        started = timezone.now()
        t0 = time.perf_counter()
        national_rebuild.delay(started=started.isoformat())
        peak = 0.0
        while MeasureSnapshot.objects.filter(computed_at__gte=started).count() < total:
            peak = max(peak, pool.peak_rss_mb())
            time.sleep(0.5)
            if time.perf_counter() - t0 > 3600:
                raise RuntimeError("rebuild did not finish in an hour")
        elapsed = time.perf_counter() - t0
        peak = max(peak, pool.peak_rss_mb())
    finally:
        pool.stop()
    print(f"  rebuild on {workers} worker(s): {elapsed:.1f} s, peak {peak:.0f} MB")
    return elapsed, peak


def _bench_client():
    """A test client on the portal's URLs plus two baselines: `/bench-bare/` (a bare
    Django view through the same middleware) and `/bench-page/` (the portal's own page
    with nothing on it: base.html for the signed-in reader, with the header, menu and
    footer every page has)."""
    from django.http import HttpResponse
    from django.shortcuts import render
    from django.test import Client
    from django.urls import include, path

    module = type(sys)("bench_national_urls")
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from measures.api import DataPointSerializer
    from measures.models import DataPoint

    class BareDataPoints(APIView):
        """The bare DRF view of (f): the same serializer over 50 points of the country's
        3 million, by primary key, with no visibility rule and no paging."""

        def get(self, request):
            return Response(DataPointSerializer(
                DataPoint.objects.order_by("pk")[:50], many=True).data)

    module.urlpatterns = [
        path("bench-bare/", lambda request: HttpResponse("ok")),
        path("bench-drf/", BareDataPoints.as_view()),
        path("bench-page/", lambda request: render(request, "base.html", {})),
        path("", include("qi_portal.urls")),
    ]
    sys.modules["bench_national_urls"] = module
    return Client()


def _bench_settings():
    from django.conf import settings
    from django.test.utils import override_settings

    # Production settings, but plain static storage: the bench does not run collectstatic.
    storages = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    return override_settings(ROOT_URLCONF="bench_national_urls", DEBUG=False, STORAGES=storages)


def _daily_measure(n: int):
    """A daily measure of n points in the first trust's first project (made once)."""
    from measures.models import DataPoint, Measure
    from projects.models import Project

    name = f"Bench daily measure ({n} points)"
    measure = Measure.objects.filter(name=name).select_related("project__lead").first()
    if measure is None:
        project = Project.objects.filter(trust_id=1).order_by("pk").first()
        measure = Measure.objects.create(
            project=project, name=name, kind="outcome", definition="Daily count.",
            frequency="daily", chart="xmr", direction="decrease", position=99)
        # Ends before 2026 and the months (c) writes, so (c)'s measure still heads the
        # matrix sorted by latest data.
        start = dt.date(2019, 1, 1)
        DataPoint.objects.bulk_create([
            DataPoint(measure=measure, period=start + dt.timedelta(days=i),
                      value=float(20 + (i * 7919) % 13)) for i in range(n)])
        measure = Measure.objects.select_related("project__lead").get(pk=measure.pk)
    return measure


def page_medians(ids: dict, repeat: int) -> dict:
    """Medians of: the two baselines, and each timed trust's dashboard (as its own board
    member) kept (the copy every reader after the first gets) and built (each request
    after its trust was marked out of date, as after a write)."""
    from django.db.models import Count, F

    from measures.models import Measure
    from organisations.models import Trust, User
    from reports import dashboard_cache

    client = _bench_client()

    def median(url, before=lambda: None):
        before()
        client.get(url)
        samples = []
        for _ in range(repeat):
            before()
            t0 = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - t0)
            assert response.status_code == 200, (url, response.status_code)
        return statistics.median(samples)

    out = {"kept": {}, "built": {}}
    with _bench_settings():
        for trust in Trust.objects.filter(pk__in=[1, 2, 3]).annotate(n=Count("projects")):
            # each trust's own board member reads its dashboard
            client.force_login(User.objects.get(pk=ids["board_of"][trust.pk]),
                               backend="django.contrib.auth.backends.ModelBackend")
            url = f"/trusts/{trust.ods_code}/"
            out["built"][trust.n] = median(url, lambda t=trust: dashboard_cache.touch([t.pk]))
            out["kept"][trust.n] = median(url)
        # (e) the national project list as the national analyst, who may filter by any of
        # the country's units (issue 21: the filter no longer lists them all).
        analyst, _ = User.objects.get_or_create(
            email="analyst@bench.example", defaults={"full_name": "Bench analyst",
                                                     "is_national_analyst": True})
        client.force_login(analyst, backend="django.contrib.auth.backends.ModelBackend")
        out["list"] = median("/projects/")
        out["list_search"] = median("/projects/?search=falls")
        out["list_unit"] = median("/projects/?unit_name=Ward+3-4")  # one in each trust
        # (f) the data-points API as the same analyst: a first page, a page in the middle
        # (the cursor its next links would reach), a sync matching every point, and the
        # deprecated page-number form, against a bare DRF view of the same serializer.
        from core.pagination import _encode
        from measures.models import DataPoint

        middle = DataPoint.objects.order_by("updated_at", "id")[
            DataPoint.objects.count() // 2]
        cursor = _encode(True, middle.updated_at, middle.pk)
        out["api_first"] = median("/api/v1/data-points/")
        out["api_middle"] = median(f"/api/v1/data-points/?cursor={cursor}")
        out["api_since"] = median("/api/v1/data-points/?updated_since=2000-01-01")
        out["api_page"] = median("/api/v1/data-points/?page=2")
        # (g) a measure page with 2,000 daily points as its project's lead: kept (every
        # read after the first) and built (after a write, a new data version).
        measure = _daily_measure(2000)
        client.force_login(measure.project.lead,
                           backend="django.contrib.auth.backends.ModelBackend")
        url = f"/projects/{measure.project_id}/measures/{measure.pk}/"

        def new_version():
            Measure.objects.filter(pk=measure.pk).update(data_version=F("data_version") + 1)

        out["measure_built"] = median(url, new_version)
        out["measure_kept"] = median(url)
        out["measure_bytes"] = len(client.get(url).content)
        client.force_login(analyst, backend="django.contrib.auth.backends.ModelBackend")
        out["drf"] = median("/bench-drf/")
        out["bare"] = median("/bench-bare/")
        out["page"] = median("/bench-page/")
    print(f"  bare view {out['bare'] * 1000:.1f} ms, bare portal page {out['page'] * 1000:.1f} "
          "ms; trust dashboards kept " + ", ".join(
              f"{n} projects {t * 1000:.1f} ms" for n, t in out["kept"].items())
          + "; built " + ", ".join(
              f"{n} projects {t * 1000:.1f} ms" for n, t in out["built"].items()))
    return out


def save_to_dashboard_seconds(ids: dict, tries: int = 5) -> tuple[float, float]:
    """A data point saved through the services as the measure's lead → (its snapshot
    rebuilt by a live worker on the interactive queue, the trust's dashboard, as its board
    member, showing the new latest value): medians in seconds. Each write is in a month
    after all generated data (June to October 2026), so the measure heads the matrix sorted
    by latest data."""
    from measures import services
    from measures.charts import value_label
    from measures.models import DataPoint, Measure, MeasureSnapshot
    from organisations.models import User

    measure = Measure.objects.select_related("project__lead", "project__trust").get(
        pk=ids["measure_of_trust_1"])
    lead = measure.project.lead  # may enter the measure's data
    client = _bench_client()
    url = f"/trusts/{measure.project.trust.ods_code}/?sort=latest"
    pool = Workers("celery", 1, ROOT / ".ci" / "logs" / "bench-interactive.log")
    stored, shown = [], []
    try:
        with _bench_settings():
            client.force_login(User.objects.get(pk=ids["board_of"][measure.project.trust_id]),
                               backend="django.contrib.auth.backends.ModelBackend")
            # On the database of an earlier run (--reuse) take back that run's writes, so
            # each write below is again the measure's latest value.
            for point in DataPoint.objects.filter(measure=measure,
                                                  period__gte=dt.date(2026, 6, 1)):
                services.data_point_delete(point=point, by=lead)
            client.get(url)
            for i in range(tries):
                measure.refresh_from_db()
                value = 10 + (time.time_ns() // 10_000_000 + i) % 90_000 / 100  # new each run
                before = MeasureSnapshot.objects.filter(measure=measure).values_list(
                    "computed_at", flat=True).first()
                t0 = time.perf_counter()
                services.data_points_merge(
                    measure=measure, by=lead, base_version=measure.data_version,
                    rows=[{"row": 1, "period": f"2026-{i + 6:02d}-01", "value": value}])
                while MeasureSnapshot.objects.filter(measure=measure).values_list(
                        "computed_at", flat=True).first() == before:
                    time.sleep(0.01)
                    if time.perf_counter() - t0 > 60:
                        raise RuntimeError("the snapshot was never rebuilt")
                stored.append(time.perf_counter() - t0)
                cell = f">{value_label(measure, value)}</td>"
                while cell not in client.get(url).content.decode():
                    time.sleep(0.01)
                    if time.perf_counter() - t0 > 60:
                        raise RuntimeError("the dashboard never showed the new value")
                shown.append(time.perf_counter() - t0)
    finally:
        pool.stop()
    print(f"  data point saved → snapshot rebuilt: median {statistics.median(stored):.2f} s; "
          f"→ dashboard shows it: median {statistics.median(shown):.2f} s")
    return statistics.median(stored), statistics.median(shown)


def board_pack_seconds(ids: dict) -> tuple[float, float, int]:
    """A board pack for trust 3 (100 projects, 300 measures, up to 60 charts), as its board
    member: (seconds to render the HTML, seconds for WeasyPrint's PDF, charts)."""
    import logging

    from organisations.models import Trust, User
    from reports import board_pack
    from reports.models import BoardPack

    logging.getLogger("fontTools").setLevel(logging.WARNING)
    trust = Trust.objects.get(pk=3)
    with _bench_settings():
        pack = BoardPack.objects.create(trust=trust, month=dt.date(2026, 11, 1),
                                        requested_by=User.objects.get(pk=ids["board_of"][3]))
        t0 = time.perf_counter()
        html = board_pack.build_html(pack)
        t1 = time.perf_counter()
        board_pack.build_pdf(html)
        t2 = time.perf_counter()
        pack.delete()
    print(f"  board pack, trust 3: HTML {t1 - t0:.2f} s, PDF {t2 - t1:.2f} s")
    return t1 - t0, t2 - t1, html.count("<svg")


def _page_lines(pages: dict, latency: tuple[float, float]) -> list[str]:
    kept, built = pages["kept"], pages["built"]
    return [
        f"| (b) trust dashboard, 100 projects, kept | {kept[100] * 1000:.1f} ms | bare portal "
        f"page {pages['page'] * 1000:.1f} ms | {kept[100] / pages['page']:.1f}× | ≤ 2× |",
        f"| (b) the same against a bare Django view | {kept[100] * 1000:.1f} ms | bare view "
        f"{pages['bare'] * 1000:.1f} ms | {kept[100] / pages['bare']:.1f}× | |",
        f"| (b) trust dashboard, 100 projects, built after a write | {built[100] * 1000:.1f} ms "
        f"| bare portal page {pages['page'] * 1000:.1f} ms | "
        f"{built[100] / pages['page']:.1f}× | |",
        f"| (b) trust dashboard, 500 projects, kept | {kept[500] * 1000:.1f} ms | 5 projects "
        f"{kept[5] * 1000:.1f} ms | {kept[500] / kept[5]:.1f}× | ≤ 2× |",
        f"| (b) trust dashboard, 500 projects, built | {built[500] * 1000:.1f} ms | 5 projects "
        f"{built[5] * 1000:.1f} ms | {built[500] / built[5]:.1f}× | ≤ 2× |",
        *[f"| (e) national project list{what}, as the national analyst | "
          f"{pages[key] * 1000:.1f} ms | bare portal page {pages['page'] * 1000:.1f} ms | "
          f"{pages[key] / pages['page']:.1f}× | ≤ 3× |"
          for key, what in (("list", ", first page"), ("list_search", " ?search=falls"),
                            ("list_unit", " ?unit_name=Ward 3-4 (a ward of every trust)"))],
        *[f"| (f) API data points{what}, as the national analyst | "
          f"{pages[key] * 1000:.1f} ms | bare DRF view {pages['drf'] * 1000:.1f} ms | "
          f"{pages[key] / pages['drf']:.1f}× | {aim} |"
          for key, what, aim in (
              ("api_first", ", first page", "≤ 2×"),
              ("api_middle", ", a cursor half-way through", "≤ 2×"),
              ("api_since", " ?updated_since= matching every point", "≤ 2×"),
              ("api_page", " ?page=2 (deprecated: counts every point)", ""))],
        f"| (g) measure page, 2,000 daily points, kept | {pages['measure_kept'] * 1000:.1f} ms "
        f"({pages['measure_bytes'] / 1024:.0f} KiB) | bare portal page "
        f"{pages['page'] * 1000:.1f} ms | {pages['measure_kept'] / pages['page']:.1f}× | ≤ 3× |",
        f"| (g) measure page, 2,000 daily points, built after a write | "
        f"{pages['measure_built'] * 1000:.1f} ms | bare portal page {pages['page'] * 1000:.1f} "
        f"ms | {pages['measure_built'] / pages['page']:.1f}× | |",
        f"| (c) data point saved → snapshot rebuilt | {latency[0]:.2f} s | | | |",
        f"| (c) data point saved → dashboard shows it | {latency[1]:.2f} s | | | < 2 s |",
    ]


def main(argv=None) -> int:
    args = parse_args(argv)
    (ROOT / ".ci" / "logs").mkdir(parents=True, exist_ok=True)
    if args.reuse:
        setup_django()
        return reuse(args)
    fresh_database()
    subprocess.run(["redis-cli", "-u", REDIS, "FLUSHDB"], check=True, capture_output=True)
    setup_django()
    t0 = time.perf_counter()
    ids = generate(args.scale)
    built = time.perf_counter() - t0
    c = ids["counts"]
    print(f"generated in {built:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in c.items()))
    read = raw_read_seconds()
    one, peak1 = rebuild_seconds(1)
    two, peak2 = rebuild_seconds(2)
    pages = page_medians(ids, args.repeat)
    latency = save_to_dashboard_seconds(ids)
    pack_html, pack_pdf, pack_charts = board_pack_seconds(ids)
    date = time.strftime("%Y-%m-%d")
    lines = [
        "", f"### {date}, --scale {args.scale:g}: {c['trusts']:,} trusts, "
            f"{c['projects']:,} projects, {c['measures']:,} measures, {c['points']:,} points, "
            f"{c['cycles']:,} PDSA cycles (generated in {built:.0f} s)", "",
        f"Python {platform.python_version()}, {os.cpu_count()} cores, PostgreSQL; "
        "one run (ratios are the figures).", "",
        "| figure | measured | baseline | ratio | aim |", "| --- | --- | --- | --- | --- |",
        f"| (a) rebuild, 1 worker | {one:.1f} s | raw read {read:.1f} s | {one / read:.1f}× "
        "| ≤ 3× |",
        f"| (a) rebuild, 2 workers | {two:.1f} s | 1 worker {one:.1f} s | {one / two:.2f}× "
        "faster | ≥ 1.6× |",
        *_page_lines(pages, latency),
        f"| (h) board pack, 100 projects ({pack_charts} charts): HTML | {pack_html:.2f} s "
        "| | | |",
        f"| (h) board pack, 100 projects: PDF | {pack_pdf:.2f} s | | | ≤ 1.5 s |",
        f"| (d) peak memory of a rebuild worker | {max(peak1, peak2):.0f} MB | | | |",
    ]
    print("\n".join(lines))
    if not args.no_append:
        results = ROOT / "bench" / "RESULTS.md"
        text = results.read_text()
        if "## National scale" not in text:
            lines = ["", "## National scale (issue 12)", "",
                     "`make bench-national` runs `bench/bench_national.py` (see its docstring)."
                     ] + lines
        at = text.find("\n## ", text.find("## National scale") + 1)
        if "## National scale" in text and at != -1:  # at the end of its own section
            text = text[:at].rstrip("\n") + "\n" + "\n".join(lines) + "\n" + text[at:]
        else:
            text = text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"
        results.write_text(text)
        print("appended to bench/RESULTS.md")
    return 0


def reuse(args) -> int:
    """Pages and the write on the database the last run generated (no regeneration)."""
    from organisations.models import Membership

    board_of = dict(Membership.objects.filter(role="board_member").values_list("trust_id",
                                                                             "user_id"))
    ids = {"board_of": board_of, "measure_of_trust_1": 1}
    pages = page_medians(ids, args.repeat)
    print("\n".join(line for line in _page_lines(pages, (0.0, 0.0)) if "(c)" not in line))
    latency = save_to_dashboard_seconds(ids)
    print("\n".join(line for line in _page_lines(pages, latency) if "(c)" in line))
    board_pack_seconds(ids)
    return 0


if __name__ == "__main__":
    sys.exit(main())
