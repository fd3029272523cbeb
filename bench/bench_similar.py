"""Benchmark the duplicate-project check (`projects.selectors.similar_projects`).

Builds projects across many trusts with realistic titles and aims (topics × settings ×
wards), then times the check as a clinician registers a project at one trust (the page's
case), and over every project in the country (the same scoring without the trust's
narrowing: what the check faces if collaboratives share projects widely). PostgreSQL
scores with pg_trgm behind the GIN trigram indexes' `%` prefilter; SQLite in Python.

    python bench/bench_similar.py                                  # SQLite, throw-away file
    python bench/bench_similar.py --database-url postgres://postgres@127.0.0.1:5432/qi_bench
    python bench/bench_similar.py --trusts 20 --per-trust 100      # quick check

The PostgreSQL database must exist and be empty (the script migrates it; drop it after).
Prints medians; record them in bench/RESULTS.md under "## Duplicate-project check".
Not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOPICS = [
    "falls", "pressure ulcers", "sepsis antibiotics", "VTE risk assessment", "AKI",
    "hand hygiene", "medication errors", "insulin safety", "delirium screening",
    "nutrition and hydration", "discharge before midday", "discharge summaries", "NEWS2",
    "mouth care", "CAUTI", "C. difficile", "MRSA bacteraemia", "hip fracture LOS",
    "stroke thrombolysis", "outpatient DNAs", "theatre start times", "smoking cessation",
    "end of life care planning", "COPD discharge bundle", "staff wellbeing", "agency spend",
    "blood culture contamination", "frailty assessment", "patient experience", "handover",
]
SETTINGS = ["on ward {n}", "on the elderly care wards", "in ED", "in ICU", "on AMU",
            "in outpatients", "in the community", "on the surgical wards", "on ward {n}",
            "in maternity"]
VERBS = ["Reducing", "Improving", "Fewer", "Better", "Safer", "", "Preventing"]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trusts", type=int, default=200)
    ap.add_argument("--per-trust", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--database-url", default="", help="PostgreSQL; default a SQLite file")
    return ap.parse_args(argv)


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qi_portal.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()


def make_data(trusts: int, per_trust: int):
    import random

    from django.core.management import call_command

    from organisations.models import Membership, Region, Trust, User
    from projects.models import Project
    from projects.similarity import normalise

    call_command("migrate", verbosity=0)
    region = Region.objects.create(code="Y56", name="London")
    Trust.objects.bulk_create(
        Trust(ods_code=f"Z{i:02d}"[:3] if i < 100 else f"{i:03d}", name=f"Bench trust {i}",
              trust_type="acute", region=region, staff_headcount=5_000)
        for i in range(trusts)
    )
    trust_list = list(Trust.objects.order_by("pk"))
    lead = User.objects.create_user("lead@bench.nhs.uk", "x", full_name="Bench Lead")
    clinician = User.objects.create_user("clin@bench.nhs.uk", "x", full_name="Bench Clinician")
    analyst = User.objects.create_user("national@bench.nhs.uk", "x", full_name="Analyst",
                                       is_national_analyst=True)
    Membership.objects.create(user=clinician, trust=trust_list[0],
                              role=Membership.Role.CLINICIAN)
    rng = random.Random(20261202)
    batch = []
    for trust in trust_list:
        for _ in range(per_trust):
            topic = rng.choice(TOPICS)
            setting = rng.choice(SETTINGS).format(n=rng.randint(1, 40))
            title = f"{rng.choice(VERBS)} {topic} {setting}".strip()
            aim = (f"Reduce {topic} {setting} by {rng.randint(10, 50)}% by March "
                   f"{rng.choice([2026, 2027, 2028])}.")
            # bulk_create skips save(), so the words are filled here as save() would.
            batch.append(Project(trust=trust, lead=lead, created_by=lead, title=title, aim=aim,
                                 match_title=normalise(title), match_aim=normalise(aim),
                                 visibility=rng.choice(["trust", "everyone"])))
        if len(batch) >= 5000:
            Project.objects.bulk_create(batch)
            batch = []
    Project.objects.bulk_create(batch)
    return trust_list[0], clinician, analyst


def time_call(fn, repeat: int) -> tuple[float, int, int]:
    from django.db import connection

    queries: list[str] = []
    with connection.execute_wrapper(
        lambda execute, sql, *a, log=queries: log.append(sql) or execute(sql, *a)
    ):
        found = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), len(queries), len(found)


def main(argv=None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(args.database_url or f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}")
        from django.db import connection

        from projects import selectors
        from projects.similarity import normalise

        t0 = time.perf_counter()
        trust, clinician, analyst = make_data(args.trusts, args.per_trust)
        total = args.trusts * args.per_trust
        print(f"built {total:,} projects in {time.perf_counter() - t0:.1f} s on "
              f"{connection.vendor}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE projects_project")
        title, aim = "Sepsis antibiotics in ED", "Antibiotics within one hour for sepsis in ED"
        cases = [
            (f"one trust ({args.per_trust} projects), title", lambda: selectors.similar_projects(
                clinician, trust=trust, title=title)),
            (f"one trust ({args.per_trust} projects), title + aim",
             lambda: selectors.similar_projects(clinician, trust=trust, title=title, aim=aim)),
        ]
        # Every project in the country as candidates (the national analyst sees them all):
        # the same scoring and prefilter as the page, without the trust's narrowing.
        everyone = selectors.visible_projects(analyst)
        want_title, want_aim = normalise(title), normalise(aim)
        national = [
            (f"every trust ({total:,} projects), title",
             lambda: selectors._best_matches(everyone, want_title, "")),
            (f"every trust ({total:,} projects), title + aim",
             lambda: selectors._best_matches(everyone, want_title, want_aim)),
        ]
        rows = [(label, *time_call(fn, args.repeat)) for label, fn in cases]
        rows += [(label, *time_call(fn, max(3, args.repeat // 4))) for label, fn in national]
    print(f"\n{connection.vendor}, median of {args.repeat} (national: {max(3, args.repeat // 4)})")
    for label, median, queries, found in rows:
        print(f"| {connection.vendor} | {label} | {median * 1000:.1f} ms | {queries} | {found} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
