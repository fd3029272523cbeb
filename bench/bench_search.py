"""Time the learning repository and project search at national scale (issue 14, item 4).

A fresh PostgreSQL database (`qi_bench_search`, not the shared `qi_bench_national`) is
filled with COPY: 200 trusts, 20,000 projects (a third share nothing, a third the summary,
a third the learning), 3 change ideas each and 10 PDSA cycles per project with Study/Act
text from a QI vocabulary (falls, sepsis six, discharge before noon, huddles...), at
--scale 1. Then:

(a) `reports.learning.rebuild_all()` (the nightly full rebuild) — seconds;
(b) the repository's queries as the page runs them (the ranked first page of 20 with
    highlights, and the count for the pagination) for the four demo queries, as a national
    analyst and as a trust clinician — median of --repeat runs, milliseconds;
(c) the project list's search (projects.selectors.project_list, first page and count), as
    the same two people;
(d) the repository's whole page for the same queries and people, against the bare portal
    page in the same run.

    python bench/bench_search.py --scale 1          # ~2 minutes
    python bench/bench_search.py --scale 0.1 --no-append

Needs PostgreSQL on 127.0.0.1:5432 (user postgres). Prints the figures and appends them to
bench/RESULTS.md. Not a test.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("PG_URL_BASE", "postgres://postgres@127.0.0.1:5432")
DB = "qi_bench_search"
QUERIES = ["falls", "sepsis six", "discharge before noon", "huddle"]

TOPICS = {
    "falls": ("Reducing inpatient falls on {ward}", "Reduce falls per 1,000 bed days by {n}%",
              ["Intentional rounding", "Bay tagging", "Falls safety huddle at handover",
               "Lying and standing blood pressure"]),
    "sepsis": ("Sepsis: antibiotics within the hour in {ward}",
               "Give the Sepsis Six within one hour to {n}% of adults with red-flag sepsis",
               ["Sepsis trolley in resus", "Sepsis Six sticker", "Screening at triage"]),
    "discharge": ("Discharge before noon on {ward}",
                  "Discharge {n}% of patients going home before noon",
                  ["Board round huddle at 08:30", "Red to green days", "Discharge lounge"]),
    "pressure": ("Preventing pressure ulcers on {ward}",
                 "Reduce category 2 pressure ulcers by {n}%",
                 ["SSKIN bundle", "Skin inspection at every turn", "Mattress audit"]),
    "medication": ("Safer medicines reconciliation on {ward}",
                   "Reconcile {n}% of admissions' medicines within 24 hours",
                   ["Pharmacy technician on the ward round", "Omitted doses check"]),
    "violence": ("Reducing restrictive practice on {ward}",
                 "Reduce restraint and seclusion by {n}%",
                 ["Safewards calm-down methods", "Mutual help meeting", "Positive words"]),
}
STUDY = [
    "The huddle ran on {a} of {b} shifts and named every patient at risk.",
    "Results matched the prediction on the day shift but not at night.",
    "Staff said the {idea} took under five minutes once it was routine.",
    "Falls in the bay fell from {a} to {b} against the week before.",
    "Antibiotics were given within the hour for {a} of {b} patients with red-flag sepsis.",
    "Discharges before noon rose from {a}% to {b}% over the fortnight.",
    "Turning charts were complete for {a} of {b} patients at risk.",
]
ACT = ["Adopt: make it part of the handover sheet.", "Adapt: move it to 19:00, before "
       "admissions arrive.", "Abandon: the existing assessment already covers it.",
       "Spread to the next ward after one more cycle."]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1 = the whole country")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--no-append", action="store_true")
    ap.add_argument("--reuse", action="store_true",
                    help="keep the database of the last run: time the queries only")
    return ap.parse_args(argv)


def setup(reuse: bool = False) -> None:
    import psycopg

    if not reuse:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {DB}")
    os.environ.update({
        "DATABASE_URL": f"{PG}/{DB}", "DEBUG": "false", "LOG_LEVEL": "WARNING",
        "SECRET_KEY": "bench-search-" + "x" * 40, "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DJANGO_SETTINGS_MODULE": "qi_portal.settings",
    })
    import django

    django.setup()


def generate(scale: float, seed: int = 20261202) -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from bench.bench_national import Copier
    from organisations.models import Membership, Region, Trust, User
    from pdsa.models import Cycle
    from projects.models import ChangeIdea, Project

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    cp = Copier(connection)
    n_trusts = max(3, round(200 * scale))
    counts = {"regions": cp.copy(Region, ["id", "code", "name"],
                                 ((i, f"Y{60 + i}", f"Region {i}") for i in range(1, 8)))}
    counts["trusts"] = cp.copy(Trust, ["id", "ods_code", "name", "trust_type", "region_id",
                                       "staff_headcount"], (
        (t, f"{chr(65 + t // 100)}{t % 100:02d}", f"Bench Trust {t}",
         ["acute", "mental_health", "community"][t % 3], 1 + t % 7, 5000)
        for t in range(1, n_trusts + 1)))
    password = make_password("bench-search")
    users = [(1, password, "analyst@bench.nhs.uk", "Analyst", True)]
    users += [(1 + t, password, f"lead@t{t}.bench.nhs.uk", f"Lead {t}", False)
              for t in range(1, n_trusts + 1)]
    counts["users"] = cp.copy(User, ["id", "password", "email", "full_name",
                                     "is_national_analyst"], users)
    cp.copy(Membership, ["id", "user_id", "trust_id", "role"],
            ((t, 1 + t, t, "clinician") for t in range(1, n_trusts + 1)))
    sharings = ["nothing", "summary", "learning"]
    keys = list(TOPICS)
    projects, ideas, cycles = [], [], []
    pid = iid = cid = 0
    for t in range(1, n_trusts + 1):
        for _ in range(100):
            pid += 1
            topic = rng.choice(keys)
            title, aim, idea_texts = TOPICS[topic]
            ward = f"Ward {rng.randint(1, 40)}"
            projects.append((pid, t, title.format(ward=ward)[:200],
                             aim.format(n=rng.randint(10, 50)) + " by March 2027.",
                             1 + t, 1 + t, "active", rng.choice(["trust", "everyone"]),
                             sharings[pid % 3], topic.capitalize()))
            for k, text in enumerate(rng.sample(idea_texts, min(3, len(idea_texts)))):
                iid += 1
                ideas.append((iid, pid, text, k))
                for n in range(1, 4 if k < 2 else 5):
                    cid += 1
                    a, b = rng.randint(1, 14), rng.randint(1, 14)
                    study = rng.choice(STUDY).format(a=a, b=b, idea=text.lower())
                    decision = rng.choice(["adopt", "adapt", "abandon", ""])
                    cycles.append((cid, iid, n, f"Test {text.lower()} on one shift", study,
                                   "We learned what to change next.", decision,
                                   rng.choice(ACT) if decision else "", "complete", 1 + t))
    counts["projects"] = cp.copy(Project, [
        "id", "trust_id", "title", "aim", "lead_id", "created_by_id", "status", "visibility",
        "sharing", "strategic_theme"], projects)
    counts["change_ideas"] = cp.copy(ChangeIdea, ["id", "project_id", "text", "position"], ideas)
    counts["cycles"] = cp.copy(Cycle, [
        "id", "change_idea_id", "number", "objective", "results", "learning", "decision",
        "next_steps", "status", "created_by_id"], cycles)
    with connection.cursor() as cursor:
        for model in (Region, Trust, User, Membership, Project, ChangeIdea, Cycle):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT max(id) FROM {table}))")
        cursor.execute("ANALYZE")
    return counts


def median_ms(fn, repeat: int) -> float:
    fn()  # warm
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def whole_pages(analyst, lead, repeat: int) -> list[tuple]:
    """(d) The repository page itself, through the portal's middleware and templates
    (filter choices kept, as for every request after a user's first), against the bare
    portal page (base.html) in the same run: the ratio issue 21 aims at (≤ 10×)."""
    from bench.bench_national import _bench_client, _bench_settings

    client = _bench_client()
    out = []
    with _bench_settings():
        for who, user in (("national analyst", analyst), ("trust clinician", lead)):
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            bare = median_ms(lambda: client.get("/bench-page/"), repeat)
            for query in QUERIES:
                def get(query=query):
                    response = client.get("/national/learning/", {"q": query})
                    assert response.status_code == 200, response.status_code

                ms = median_ms(get, repeat)
                out.append((f"whole page ({ms / bare:.1f}× the bare portal page, "
                            f"{bare:.1f} ms)", query, who, 0, ms))
                print(f"  whole page {query!r:26} {who:17} {ms:7.1f} ms = "
                      f"{ms / bare:.1f}× bare page {bare:.1f} ms")
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    setup(args.reuse)
    from django.db import connection

    from core.pagination import CappedPaginator
    from organisations.models import User
    from pdsa.models import Cycle
    from projects import selectors
    from projects.models import ChangeIdea, Project
    from reports import learning
    from reports.models import LearningDocument
    from reports.views.learning import PAGE_SIZE, RESULTS_COUNTED

    if args.reuse:
        counts = {"trusts": User.objects.count() - 1, "projects": Project.objects.count(),
                  "change_ideas": ChangeIdea.objects.count(), "cycles": Cycle.objects.count()}
        rows, rebuild = LearningDocument.objects.count(), None
    else:
        t0 = time.perf_counter()
        counts = generate(args.scale)
        print(f"generated in {time.perf_counter() - t0:.0f} s: "
              + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
        t0 = time.perf_counter()
        rows = learning.rebuild_all()
        rebuild = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE reports_learningdocument")
        print(f"rebuild_all: {rows:,} rows in {rebuild:.1f} s")
    analyst = User.objects.get(email="analyst@bench.nhs.uk")
    lead = User.objects.get(email="lead@t1.bench.nhs.uk")
    results = []
    for who, user in (("national analyst", analyst), ("trust clinician", lead)):
        ms = median_ms(lambda user=user: learning._facets(user), args.repeat)  # uncached
        results.append(("repository filter choices, uncached (cached 5 min per user)", "",
                        who, 0, ms))
        print(f"  facets {who:17} {ms:7.1f} ms")
    for query in QUERIES:
        for who, user in (("national analyst", analyst), ("trust clinician", lead)):
            def page(user=user, query=query, counting_all=False):
                qs = learning.find(user, query)
                first = learning.with_highlights(list(qs.only("pk")[:20]), query, user)
                # counted as the page counts: to 1,000 (issue 21)
                return qs.count() if counting_all else CappedPaginator(
                    qs, PAGE_SIZE, cap=RESULTS_COUNTED).count, first

            found, first = page(counting_all=True)  # how many match, for the table
            assert all("<mark>" in str(r.title_html) + str(r.snippet_html) for r in first)
            ms = median_ms(page, args.repeat)
            results.append(("repository", query, who, found, ms))
            print(f"  repository {query!r:26} {who:17} {found:8,} found {ms:7.1f} ms")

            def projects(user=user, query=query):
                qs = selectors.project_list(user, search=query)
                return qs.count(), list(qs[:25])

            found, _ = projects()
            ms = median_ms(projects, max(3, args.repeat // 3))
            results.append(("project list", query, who, found, ms))
            print(f"  project list {query!r:24} {who:17} {found:8,} found {ms:7.1f} ms")
    results += whole_pages(analyst, lead, args.repeat)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
    if not args.no_append:
        append(args, counts, rows, rebuild, results, version)
    assert LearningDocument.objects.count() == rows
    return 0


def append(args, counts, rows, rebuild, results, version) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text()
    lines = []
    if "## Learning repository search" not in text:
        lines += ["", "## Learning repository search (issue 14, item 4)", "",
                  "`python bench/bench_search.py` (see its docstring). Medians; each "
                  "repository figure is the page's two queries (the ranked first page of 20 "
                  "with highlights, and the count), each project-list figure the list's "
                  "first page of 25 and its count."]
    lines += [
        "", f"### {time.strftime('%Y-%m-%d %H:%M')} UTC, --scale {args.scale:g}: "
            f"{counts['trusts']:,} trusts, {counts['projects']:,} projects, "
            f"{counts['change_ideas']:,} change ideas, {counts['cycles']:,} PDSA cycles → "
            f"{rows:,} repository rows",
        "", f"{version}, Python {platform.python_version()}, {os.cpu_count()} CPUs (shared "
            "container, other jobs running).", "",
        (f"- Full rebuild (`rebuild_all`): {rebuild:.1f} s." if rebuild is not None
         else "- Queries only, on the database of the previous run (`--reuse`)."), "",
        "| search | query | as | found | median |", "| --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {kind} | {query} | {who} | {found:,} | {ms:.1f} ms |" if found else
              f"| {kind} | {query} | {who} | | {ms:.1f} ms |"
              for kind, query, who, found, ms in results]
    with path.open("a") as out:  # append only: other benches write this file too
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
