"""Issue 20: one consistency test. Generated trusts with random data, statuses, cycles,
scores, rate multipliers and chart types; after any sequence of writes (bulk ones too) and
the queue drained, every measure reads the same value, icons and target reading on the
measure page, the trust and unit matrices, the CSV export, the board pack, the API's `spc`
answer and the national comparison, and every board-summary count equals a direct count
from the tables. Runs on SQLite with tasks in-process and, in CI's second run, on
PostgreSQL (tests/integration/test_consistency_worker.py drives the same checks through a
live worker)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
from collections import Counter

import pytest
from django.urls import reverse
from django.utils import timezone

from measures import services as measure_services
from measures.charts import measure_chart_context, value_label
from measures.models import DataPoint, Measure, MeasureSnapshot
from measures.snapshots import measures_refresh_batch
from organisations.models import Membership
from pdsa.models import Cycle
from projects import services as project_services
from projects.models import ProgressScore, Project
from reports import board_pack, comparisons, rollups, selectors, services, tasks
from reports.exports import _latest
from reports.models import BoardPack, ComparisonSnapshot, NationalAdoption, Rollup
from reports.spc.icons import VARIATION_TITLES
from tests.factories import (
    ChangeIdeaFactory,
    MeasureFactory,
    MembershipFactory,
    ProjectFactory,
    UnitFactory,
)
from tests.reports.compare_world import national_measure

CHARTS = ["p", "u", "xmr", "c", "run"]
STATUSES = [s for s, _ in Project.Status.choices]


def _months_back(n: int) -> list[dt.date]:
    d = timezone.localdate().replace(day=1)
    out = []
    for _ in range(n):
        d = (d - dt.timedelta(days=1)).replace(day=1)
        out.append(d)
    return out[::-1]


def _points(rng, chart, n):
    shift = rng.random() < 0.5
    rows = []
    for i, period in enumerate(_months_back(n)):
        late = shift and i >= n * 2 // 3
        if chart == "p":
            den = rng.randint(40, 200)
            p = 0.6 + (0.2 if late else 0) + rng.uniform(-0.05, 0.05)
            rows.append(dict(period=period, numerator=round(den * p), denominator=den))
        elif chart == "u":
            den = rng.randint(500, 3000)
            rate = (0.006 if late else 0.009) + rng.uniform(-0.001, 0.001)
            rows.append(dict(period=period, numerator=round(den * rate), denominator=den))
        elif chart == "c":
            rows.append(dict(period=period, value=rng.randint(0, 4) + (6 if late else 0)))
        else:
            rows.append(dict(period=period, value=round(rng.gauss(20 + (8 if late else 0), 2),
                                                        1)))
    return rows


def _world(rng, trust, lead, nadia):
    wards = [UnitFactory(trust=trust, name=f"Ward {i}", kind="ward") for i in range(2)]
    nms = {"p": national_measure(nadia, chart="p", name="National P"),
           "u": national_measure(nadia, chart="u", rate_per=rng.choice([100, 1000]),
                                 name="National U")}
    adopted = set()
    measures = []
    for i in range(rng.randint(4, 6)):
        project = ProjectFactory(trust=trust, lead=lead, visibility="trust",
                                 status=rng.choice(STATUSES), stopped_reason="Merged",
                                 unit=rng.choice([None, *wards]),
                                 title=f"Project {i}")
        for j in range(rng.randint(1, 2)):
            chart = rng.choice(CHARTS)
            target = rng.choice([None, None, 1.0, 25.0, 0.7])
            m = MeasureFactory(project=project, chart=chart, name=f"Measure {i}.{j}",
                               direction=rng.choice(["increase", "decrease"]),
                               target=target, frequency="monthly",
                               rate_per=rng.choice([1, 100, 1000]) if chart == "u" else 1)
            if chart in nms and chart not in adopted and rng.random() < 0.7:
                services.national_adopt(national_measure=nms[chart], by=lead, measure=m)
                adopted.add(chart)
                m.refresh_from_db()
            DataPoint.objects.bulk_create([DataPoint(measure=m, **r) for r in
                                           _points(rng, chart, rng.randint(3, 20))])
            measure_services.measure_mark_dirty(measure_id=m.pk)
            measures.append(m)
        for _k in range(rng.randint(0, 3)):
            project_services.progress_score_record(
                by=lead, project=project, score=rng.choice(["1.0", "2.0", "3.5", "4.0"]),
                scored_on=timezone.localdate() - dt.timedelta(days=rng.randint(0, 300)))
        idea = ChangeIdeaFactory(project=project)
        Cycle.objects.bulk_create([Cycle(change_idea=idea, number=n + 1, created_by=lead,
                                         objective=f"Test {n}", prediction="Better")
                                   for n in range(rng.randint(0, 3))])
    return measures, nms, wards


def _random_writes(rng, trust, lead):
    """Writes a roll-up counts, through services and around them (no signals)."""
    projects = list(Project.objects.filter(trust=trust))
    for _ in range(rng.randint(2, 5)):
        kind = rng.choice(["bulk_status", "bulk_scores", "bulk_cycles", "move", "delete"])
        some = rng.sample(projects, k=min(len(projects), rng.randint(1, 3)))
        if kind == "bulk_status":
            Project.objects.filter(pk__in=[p.pk for p in some]).update(
                status=rng.choice(STATUSES), stopped_reason="Merged with another project")
        elif kind == "bulk_scores":
            ProgressScore.objects.bulk_create([ProgressScore(
                project=p, score=rng.choice(["0.5", "1.5", "3.0", "5.0"]),
                scored_on=timezone.localdate(), recorded_by=lead) for p in some])
        elif kind == "bulk_cycles":
            for p in some:
                idea = ChangeIdeaFactory(project=p)
                Cycle.objects.bulk_create([Cycle(change_idea=idea, number=1, created_by=lead,
                                                 objective="Bulk", prediction="Up")])
        elif kind == "move":
            Project.objects.filter(pk__in=[p.pk for p in some]).update(unit=None)
        elif kind == "delete" and len(projects) > 2:
            victim = some[0]
            Cycle.objects.filter(change_idea__project=victim).delete()
            victim.delete()
            projects.remove(victim)


def _drain(trust, nms):
    measures_refresh_batch(Measure.objects.filter(project__trust=trust)
                           .values_list("pk", flat=True))
    tasks.reconcile_rollups()
    for nm in nms.values():
        comparisons.build(ComparisonSnapshot.Kind.NATIONAL, nm.pk)


def _direct_counts(trust):
    board = Project.objects.filter(trust=trust, visibility__in=rollups.BOARD)
    by_status = Counter(board.values_list("status", flat=True))
    by_score = Counter()
    today = timezone.localdate()
    for p in board:
        latest = (ProgressScore.objects.filter(project=p, scored_on__lte=today)
                  .order_by("-scored_on", "-pk").first())
        by_score["none" if latest is None else f"{latest.score:.1f}"] += 1
    month = rollups.month_of(today)
    start = timezone.make_aware(dt.datetime.combine(month, dt.time.min))
    cycles = Cycle.objects.filter(change_idea__project__in=board, created_at__gte=start).count()
    return dict(by_status), dict(by_score), cycles


def _row_of(html: str, measure) -> str:
    link = reverse("projects:measure_detail", args=[measure.project_id, measure.pk])
    rows = re.findall(r"<tr class=\"nhsuk-table__row\">(.*?)</tr>", html, flags=re.S)
    found = [r for r in rows if f'href="{link}"' in r]
    assert len(found) == 1, (measure.name, len(found))
    return found[0]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [11, 23, 37])
def test_every_figure_reads_the_same_everywhere(seed, client, trust_a, nadia):
    rng = random.Random(seed)
    lead = MembershipFactory(trust=trust_a, role=Membership.Role.QI_LEAD).user
    measures, nms, wards = _world(rng, trust_a, lead, nadia)
    _random_writes(rng, trust_a, lead)
    _drain(trust_a, nms)
    check_consistency(client, trust_a, lead, wards)


def check_consistency(client, trust_a, lead, wards) -> None:
    """Every check of the module's docstring, on what is stored and shown now."""
    client.force_login(lead, backend="django.contrib.auth.backends.ModelBackend")
    trust_html = client.get(reverse("reports:trust", args=[trust_a.ods_code])).content.decode()
    unit_html = {w.pk: client.get(reverse("reports:unit", args=[trust_a.ods_code, w.pk]))
                 .content.decode() for w in wards}
    export = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "csv"]))
    csv_rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode(
        "utf-8-sig") if export.streaming else export.content.decode("utf-8-sig"))))
    pack = BoardPack.objects.create(trust=trust_a, month=timezone.localdate().replace(day=1),
                                    requested_by=lead)
    pack_html = board_pack.build_html(pack)

    live_measures = Measure.objects.filter(project__trust=trust_a).select_related("project")
    assert live_measures.exists()
    compared = 0
    for m in live_measures:
        snap = MeasureSnapshot.objects.get(measure=m)
        points = list(m.points.order_by("period"))
        # the measure page computes from the points: the same as the stored snapshot
        ctx = measure_chart_context(m, points)
        if ctx.get("has_chart"):
            live = ctx["result"]
            assert live.points[-1].value == pytest.approx(snap.latest_value), m.name
            assert live.variation_icon == (snap.variation_icon or live.variation_icon)
        page = client.get(reverse("projects:measure_detail", args=[m.project_id, m.pk]))
        assert page.status_code == 200
        label = value_label(m, snap.latest_value)
        words = selectors.assurance_text(snap.assurance, m)
        # the API's spc reading
        api = client.get(f"/api/v1/measures/{m.pk}/spc/").json()
        assert api["latest_value"] == pytest.approx(snap.latest_value)
        assert api["variation_icon"] == snap.variation_icon
        assert api["assurance"] == snap.assurance
        # the trust matrix and the unit matrix of its ward
        row = _row_of(trust_html, m)
        assert label in row, (m.name, label)
        if m.project.unit_id:
            assert label in _row_of(unit_html[m.project.unit_id], m)
        # the CSV export
        (line,) = [r for r in csv_rows[1:] if r[-1].endswith(f"/measures/{m.pk}/")]
        number, unit = _latest(m, snap.latest_value)
        assert float(line[5]) == pytest.approx(float(number)) and line[6] == unit
        assert line[7] == VARIATION_TITLES.get(snap.variation_icon, snap.variation_icon)
        assert line[8] == words
        # the board pack's table
        pack_rows = [r for r in re.findall(r"<tr>(.*?)</tr>", pack_html, flags=re.S)
                     if f"<td>{m.name}</td>" in r and f"<td>{m.project.title}</td>" in r]
        assert len(pack_rows) == 1 and f"<td>{label}</td>" in pack_rows[0]
        assert f"<td>{words}</td>" in pack_rows[0]
        # the national comparison: this trust's rate in the latest month
        adoption = NationalAdoption.objects.filter(measure=m).first()
        if adoption is not None and snap.latest_period is not None:
            row_c = ComparisonSnapshot.objects.filter(
                kind=ComparisonSnapshot.Kind.NATIONAL, object_id=adoption.national_measure_id,
                period=snap.latest_period).first()
            assert row_c is not None
            (unit_row,) = [u for u in row_c.data["units"] if int(u["trust"]) == trust_a.pk]
            shown = snap.latest_value * (100 if m.chart == "p" else 1)
            assert unit_row["rate"] == pytest.approx(shown), m.name
            compared += 1

    assert compared == NationalAdoption.objects.filter(
        measure__project__trust=trust_a, measure__snapshot__latest_period__isnull=False).count()

    # the board summary against the tables, after every write
    by_status, by_score, cycles = _direct_counts(trust_a)
    now = Rollup.objects.get(trust=trust_a, unit=None,
                             month=rollups.month_of(timezone.localdate()))
    assert {k: v for k, v in now.by_status.items() if v} == by_status
    assert {k: v for k, v in now.by_score.items() if v} == by_score
    assert now.cycles_logged == cycles
    assert now.dirty_since is None
    shown = re.findall(
        r'<td class="nhsuk-table__cell">([^<]+)</td><td class="nhsuk-table__cell '
        r'nhsuk-table__cell--numeric">(\d+)</td>',
        trust_html.split("Projects by status", 1)[1].split("</table>", 1)[0])
    labels = dict(Project.Status.choices)
    assert {label: int(n) for label, n in shown if int(n)} == {
        labels[s]: n for s, n in by_status.items()}
