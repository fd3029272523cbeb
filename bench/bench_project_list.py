"""Benchmark the project list page against a bare Django view, with 10,000 projects.

Builds a throw-away SQLite database (migrations, one trust with a unit tree, a QI lead and
10,000 projects with teams and scores), then times, with the Django test Client in the same
process: the project list as the signed-in QI lead (default sort; sorted by title with a
search and a status filter; page 40) and a bare view that returns a constant HttpResponse
(the floor: the middleware stack, session and auth lookups). Prints the medians and the
ratio, and appends them to bench/RESULTS.md under "## Project list".

    python bench/bench_project_list.py              # 10,000 projects (≈1 minute)
    python bench/bench_project_list.py --n 1000     # quick check
    python bench/bench_project_list.py --no-append  # do not touch RESULTS.md

Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="number of projects")
    ap.add_argument("--repeat", type=int, default=30, help="requests per case")
    ap.add_argument("--no-append", action="store_true", help="do not append to RESULTS.md")
    return ap.parse_args(argv)


def setup_django(db_path: str) -> None:
    # Before django.setup(): the settings read the environment once.
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qi_portal.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def bare_view(request):
    from django.http import HttpResponse

    return HttpResponse("ok")


# The bench's own URLconf: the portal's URLs plus the bare view.
urlpatterns: list = []


def build_urls():
    from django.urls import include, path

    urlpatterns[:] = [path("bench-bare/", bare_view), path("", include("qi_portal.urls"))]


def make_data(n: int):
    import datetime
    import random

    from django.core.management import call_command
    from django.utils import timezone

    from organisations import services as org_services
    from organisations.models import Membership, Region, Trust, User
    from projects.models import PROGRESS_SCALE, Project, TeamMember

    call_command("migrate", verbosity=0)
    region = Region.objects.create(code="Y56", name="London")
    trust = Trust.objects.create(ods_code="ZBN", name="Bench NHS Trust", trust_type="acute",
                                 region=region, staff_headcount=10_000)
    units = []
    for d in range(5):
        division = org_services.unit_create(trust=trust, name=f"Division {d}", kind="division")
        for w in range(8):
            units.append(org_services.unit_create(trust=trust, name=f"Ward {d}-{w}",
                                                  kind="ward", parent=division))
    qi_lead = User.objects.create_user("qilead@bench.nhs.uk", "x", full_name="Bench QI Lead")
    Membership.objects.create(user=qi_lead, trust=trust, role=Membership.Role.QI_LEAD)
    staff = [User(email=f"staff{i}@bench.nhs.uk", full_name=f"Staff {i}") for i in range(200)]
    User.objects.bulk_create(staff)
    staff = list(User.objects.filter(email__startswith="staff"))
    Membership.objects.bulk_create(
        Membership(user=u, trust=trust, role=Membership.Role.CLINICIAN) for u in staff
    )
    rng = random.Random(20261126)
    today = timezone.localdate()
    statuses = [s for s, _ in Project.Status.choices if s != "stopped"]
    themes = ["Patient safety", "Patient flow", "Workforce", "Person-centred care", ""]
    words = ("falls sepsis discharge pressure ulcers medication theatre outpatient frailty "
             "delirium handover nutrition").split()
    projects = []
    for i in range(n):
        scored = rng.random() < 0.8
        projects.append(Project(
            trust=trust, unit=rng.choice(units), lead=rng.choice(staff), created_by=qi_lead,
            title=f"Improving {rng.choice(words)} and {rng.choice(words)} {i}",
            aim=f"Reduce {rng.choice(words)} by {rng.randint(10, 50)}% by 2027.",
            status=rng.choice(statuses), strategic_theme=rng.choice(themes),
            visibility=rng.choice(["team", "trust", "everyone"]),
            start_date=today - datetime.timedelta(days=rng.randint(0, 700)),
            target_date=today + datetime.timedelta(days=rng.randint(1, 700)),
            progress_score=rng.choice(PROGRESS_SCALE)[0] if scored else None,
            progress_scored_on=today - datetime.timedelta(days=rng.randint(0, 200))
            if scored else None,
        ))
    Project.objects.bulk_create(projects, batch_size=2000)
    ids = list(Project.objects.values_list("pk", flat=True))
    TeamMember.objects.bulk_create(
        (TeamMember(project_id=pk, user=u) for pk in ids for u in rng.sample(staff, 3)),
        batch_size=5000,
    )
    # The QI lead is on a few teams, so "mine" has something to find.
    TeamMember.objects.bulk_create(TeamMember(project_id=pk, user=qi_lead) for pk in ids[::50])
    return qi_lead


def time_case(client, url: str, repeat: int) -> float:
    client.get(url)  # warm caches (templates, URL resolver)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - t0)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(samples)


def append_results(lines: list[str]) -> None:
    results = ROOT / "bench" / "RESULTS.md"
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    headings = [ln for ln in text.splitlines() if ln.startswith("## ")]
    block = []
    table = ["| date | projects | case | median | × bare view |", "| --- | --- | --- | --- | --- |"]
    if not headings or not headings[-1].startswith("## Project list"):
        title = "## Project list"
        if title in text:
            title += " (more runs)"
        block += ["", title, "", "`python bench/bench_project_list.py` (see its docstring).",
                  "", *table]
    elif not text.rstrip().splitlines()[-1].startswith("|"):
        block += ["", *table]  # notes follow the last table: start a new one
    block += lines
    with results.open("a") as fh:
        fh.write(("\n" if not text.endswith("\n") else "") + "\n".join(block) + "\n")


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(os.path.join(tmp, "bench.sqlite3"))
        from django.conf import settings
        from django.db import connection
        from django.test import Client
        from django.test.utils import override_settings

        build_urls()
        t0 = time.perf_counter()
        qi_lead = make_data(args.n)
        print(f"built {args.n:,} projects in {time.perf_counter() - t0:.1f} s")
        client = Client()
        client.force_login(qi_lead, backend="django.contrib.auth.backends.ModelBackend")
        cases = [
            ("list, default sort", "/projects/"),
            ("list, search + status + sort by title", "/projects/?search=falls&status=active"
                                                      "&sort=title"),
            ("list, page 40", "/projects/?page=40"),
            ("list, mine + stale", "/projects/?mine=1&stale=yes&sort=-score"),
        ]
        with override_settings(ROOT_URLCONF=__name__, DEBUG=False):
            bare = time_case(client, "/bench-bare/", args.repeat)
            rows = [("bare view (middleware, session, user)", bare, 1.0)]
            for label, url in cases:
                queries = []
                with connection.execute_wrapper(
                    lambda execute, sql, *a, log=queries: log.append(sql) or execute(sql, *a)
                ):
                    client.get(url)
                median = time_case(client, url, args.repeat)
                rows.append((f"{label} ({len(queries)} queries)", median, median / bare))
        assert settings.DATABASES["default"]["NAME"].startswith(tmp)
    date = time.strftime("%Y-%m-%d")
    print(f"\nPython {platform.python_version()}, {args.n:,} projects, median of {args.repeat}")
    lines = []
    for label, median, ratio in rows:
        print(f"  {label:<55} {median * 1000:8.2f} ms   × {ratio:5.1f}")
        lines.append(f"| {date} | {args.n:,} | {label} | {median * 1000:.1f} ms | {ratio:.1f} |")
    if not args.no_append:
        append_results(lines)
        print("appended to bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
