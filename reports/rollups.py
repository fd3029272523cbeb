"""Monthly roll-ups of a trust and of each unit's subtree, as the board sees them.

Scope: a roll-up counts only the trust's projects with visibility TRUST or EVERYONE, never
team-only ones. Every holder of TRUST_DASHBOARD_VIEW (a member of the trust in any role, a
national analyst, the operator) may view every such project (organisations.access
`projects_visible_to`), so no figure here reveals a project the reader may not see. What a
reader alone may see (a team-only project they lead) stays in the page's live counts.

Built by Celery (`reports.tasks.refresh_rollups`) after measure refreshes, debounced: a
refresh calls `request`, which sets the trust row's `dirty_since` only if it was clear, so
any number of refreshes before the build starts cause one build; the build `claim`s the
mark with a conditional update, so of several workers only one builds. Rows are upserted
on the natural key (trust, unit, month; unique constraints): building twice, or two
builders at once, leave one row per scope and month.

Past months (`build(trust_id, months=12)`) come from history: status from the projects'
change history, progress scores by `scored_on`, cycles by when they were logged. Measure
icons are known only for the month being built now (`has_icons`); a backfilled month has
none.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core.queries import id_list
from measures.models import Measure, MeasureSnapshot
from organisations.models import Trust, Unit
from pdsa.models import Cycle
from pdsa.selectors import with_quality
from projects.models import ProgressScore, Project
from projects.selectors import OPEN_STATUSES, STALE_AFTER
from reports import dashboard_cache
from reports.models import Rollup, RollupMark

BOARD = (Project.Visibility.TRUST, Project.Visibility.EVERYONE)
# Measures with no data for this long are stale (the same 60 days as progress scores).
MEASURE_STALE_AFTER = dt.timedelta(days=60)
LIST_IDS = 20
BUILT_FIELDS = ["by_status", "by_score", "projects_active", "stale", "cycles_logged",
                "cycles_all_four", "has_icons", "by_variation", "by_assurance", "changes",
                "built_at"]


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def last_months(n: int, today: dt.date | None = None) -> list[dt.date]:
    """The first days of the last n months, oldest first, ending with this month."""
    month = month_of(today or timezone.localdate())
    months = [month]
    for _ in range(n - 1):
        months.append(previous_month(months[-1]))
    return months[::-1]


def board_projects(trust_id: int):
    """The trust's projects every trust member may see: what roll-ups count."""
    return Project.objects.filter(trust_id=trust_id, visibility__in=BOARD)


def _scopes(path: str | None) -> list[int | None]:
    """The trust (None) and every unit in a project's unit path."""
    if not path:
        return [None]
    return [None, *(int(part) for part in path.strip("/").split("/"))]


def _as_of(items, day):
    """The value of the last (date, value) pair on or before `day` (items in date order)."""
    value = None
    for when, item in items:
        if when > day:
            break
        value = item
    return value


def _score_key(score) -> str:
    return "none" if score is None else f"{score:.1f}"


def _limited(ids) -> list[int]:
    return sorted(ids)[:LIST_IDS]


def _load(trust_id: int, first: dt.date, backfill: bool) -> dict:
    """Everything the build reads, in a constant number of queries."""
    board = board_projects(trust_id)
    projects = list(board.values_list("pk", "unit__path", "status", "start_date", "created_at",
                                      "progress_score", "progress_scored_on"))
    scores: dict[int, list] = defaultdict(list)
    for pid, score, scored_on in (ProgressScore.objects.filter(project__in=board.values("pk"))
                                  .order_by("scored_on", "pk")
                                  .values_list("project_id", "score", "scored_on")):
        scores[pid].append((scored_on, score))
    statuses: dict[int, list] = defaultdict(list)
    if backfill:
        for pid, when, status in (Project.history.filter(id__in=board.values("pk"))
                                  .order_by("history_date", "history_id")
                                  .values_list("id", "history_date", "status")):
            statuses[pid].append((timezone.localdate(when), status))
    start = timezone.make_aware(dt.datetime.combine(first, dt.time.min))
    cycles = list(
        with_quality(Cycle.objects.filter(change_idea__project__in=board.values("pk"),
                                          created_at__gte=start))
        .select_related("change_idea")
        .only("created_at", "prediction", "results", "follows", "change_idea__project")
    )
    snaps = list(MeasureSnapshot.objects.filter(measure__project__in=board.values("pk"))
                 .values_list("measure_id", "measure__project_id", "variation_icon",
                              "assurance", "latest_period"))
    units = list(Unit.objects.filter(trust_id=trust_id).values_list("pk", flat=True))
    return {"projects": projects, "scores": scores, "statuses": statuses, "cycles": cycles,
            "snaps": snaps, "units": units}


def _empty() -> dict:
    return {"by_status": Counter(), "by_score": Counter(), "projects_active": 0, "stale": 0,
            "cycles_logged": 0, "cycles_all_four": 0, "by_variation": Counter(),
            "by_assurance": Counter(), "moved_up": set(), "moved_down": set(),
            "special_cause": set(), "new_special_cause": set(), "gone_stale": set()}


def _month(data, month: dt.date, today: dt.date, previous: dict) -> dict:
    """{scope: figures} for one month; `previous` is {scope: special-cause ids} of the
    month before when it had icons."""
    current = month == month_of(today)
    end = min(next_month(month) - dt.timedelta(days=1), today)
    before = month - dt.timedelta(days=1)
    acc: dict = defaultdict(_empty)
    path_of = {}
    for pid, path, status, start_date, created_at, score, scored_on in data["projects"]:
        path_of[pid] = path
        if timezone.localdate(created_at) > end:
            continue
        if not current:
            status = _as_of(data["statuses"][pid], end)
            if status is None:
                continue
        history = data["scores"][pid]
        if history or not current:
            # The scores themselves, not the project's copy of the latest: a score written
            # in bulk (bulk_create) leaves that copy behind (issue 20 item 2).
            scored_on = _as_of([(d, d) for d, _ in history], end)
            score = _as_of(history, end)
        then, was = score, _as_of(data["scores"][pid], before)
        cutoff = end - STALE_AFTER
        stale = status in OPEN_STATUSES and (
            scored_on < cutoff if scored_on is not None
            else start_date is not None and start_date < cutoff)
        for scope in _scopes(path):
            figures = acc[scope]
            figures["by_status"][status] += 1
            figures["by_score"][_score_key(then)] += 1
            figures["projects_active"] += status in OPEN_STATUSES
            figures["stale"] += stale
            if then is not None and was is not None and then != was:
                figures["moved_up" if then > was else "moved_down"].add(pid)
    for cycle in data["cycles"]:
        if month_of(timezone.localdate(cycle.created_at)) != month:
            continue
        all_four = all(cycle.quality_features().values())
        for scope in _scopes(path_of.get(cycle.change_idea.project_id)):
            acc[scope]["cycles_logged"] += 1
            acc[scope]["cycles_all_four"] += all_four
    if current:
        stale_before = end - MEASURE_STALE_AFTER
        went_stale_after = before - MEASURE_STALE_AFTER
        for mid, pid, variation, assurance, latest in data["snaps"]:
            special = variation.startswith(("improvement", "concern"))
            for scope in _scopes(path_of.get(pid)):
                figures = acc[scope]
                if variation:
                    figures["by_variation"][variation] += 1
                if assurance:
                    figures["by_assurance"][assurance] += 1
                if special:
                    figures["special_cause"].add(mid)
                    known = previous.get(scope)
                    # No icons stored for last month: a signal is new if the data behind it
                    # arrived this month or last.
                    if (mid not in known) if known is not None else (
                            latest is not None and latest >= previous_month(month)):
                        figures["new_special_cause"].add(mid)
                if latest is not None and went_stale_after <= latest < stale_before:
                    figures["gone_stale"].add(mid)
    return acc


def _fields(figures: dict, has_icons: bool) -> dict:
    changes = {}
    for key in ("new_special_cause", "moved_up", "moved_down", "gone_stale"):
        changes[key] = _limited(figures[key])
        changes[f"{key}_count"] = len(figures[key])
    if has_icons:
        changes["special_cause_ids"] = sorted(figures["special_cause"])
    return {
        "by_status": dict(figures["by_status"]),
        "by_score": dict(figures["by_score"]),
        "projects_active": figures["projects_active"],
        "stale": figures["stale"],
        "cycles_logged": figures["cycles_logged"],
        "cycles_all_four": figures["cycles_all_four"],
        "has_icons": has_icons,
        "by_variation": dict(figures["by_variation"]),
        "by_assurance": dict(figures["by_assurance"]),
        "changes": changes,
    }


def build(trust_id: int, months: int = 1, today: dt.date | None = None) -> int:
    """Build the roll-ups of the trust and each of its units for the last `months` months
    (1: this month only). Idempotent. Returns how many rows it wrote.

    The database's mark (RollupMark, reports.db_triggers) is taken first, in its own
    statement (committed at once by a worker), so the build's reads come after it and a
    write committed while it builds marks the trust again; no lock is held on it."""
    RollupMark.objects.filter(trust_id=trust_id).delete()
    return _build(trust_id, months, today)


@transaction.atomic
def _build(trust_id: int, months: int, today: dt.date | None) -> int:
    today = today or timezone.localdate()
    wanted = last_months(months, today)
    data = _load(trust_id, wanted[0], backfill=months > 1)
    scopes = [None, *data["units"]]
    earlier = {
        r.unit_id: set(r.changes.get("special_cause_ids", []))
        for r in Rollup.objects.filter(trust_id=trust_id, month=previous_month(wanted[-1]),
                                       has_icons=True).only("unit", "changes")
    }
    now = timezone.now()
    # Upsert on the natural key in a constant number of queries: the rows there are, locked
    # (a second builder waits, then overwrites with the same figures), updated at once; the
    # missing ones inserted, skipping any another builder inserted meanwhile.
    existing = {(row.unit_id, row.month): row for row in Rollup.objects.select_for_update()
                .filter(trust_id=trust_id, month__in=wanted)}
    to_update, to_create = [], []
    for month in wanted:
        has_icons = month == month_of(today)
        acc = _month(data, month, today, earlier if has_icons else {})
        for scope in scopes:
            fields = {**_fields(acc[scope], has_icons), "built_at": now}
            row = existing.get((scope, month))
            if row is None:
                to_create.append(Rollup(trust_id=trust_id, unit_id=scope, month=month, **fields))
                continue
            for name, value in fields.items():
                setattr(row, name, value)
            to_update.append(row)
    Rollup.objects.bulk_update(to_update, BUILT_FIELDS, batch_size=200)
    Rollup.objects.bulk_create(to_create, batch_size=200, ignore_conflicts=True)
    dashboard_cache.touch([trust_id])  # once this commits
    return len(to_update) + len(to_create)


def request(trust_id: int) -> bool:
    """Ask for this month's roll-ups of a trust to be rebuilt. True when the caller should
    send the build (the mark was clear); False when a build is already wanted."""
    month = month_of(timezone.localdate())
    now = timezone.now()
    rows = Rollup.objects.filter(trust_id=trust_id, unit=None, month=month)
    if rows.filter(dirty_since__isnull=True).update(dirty_since=now):
        dashboard_cache.touch([trust_id])  # the dashboards say "Updating…"
        return True
    if rows.exists():
        return False
    try:
        with transaction.atomic():
            Rollup.objects.create(trust_id=trust_id, unit=None, month=month, dirty_since=now)
    except IntegrityError:  # another request created it first: that one sends the build
        return False
    dashboard_cache.touch([trust_id])
    return True


def claim(trust_id: int) -> bool:
    """Take the trust's build mark (conditional update): only one worker gets it."""
    rows = Rollup.objects.filter(trust_id=trust_id, unit=None,
                                 month=month_of(timezone.localdate()))
    marked = rows.filter(dirty_since__isnull=False).values_list("dirty_since", flat=True).first()
    return marked is not None and rows.filter(dirty_since=marked).update(dirty_since=None) == 1


def marked(trust_id: int) -> bool:
    """Has a write changed what this trust's roll-ups count since the last build began?"""
    return RollupMark.objects.filter(trust_id=trust_id).exists()


def mark_again(trust_id: int) -> None:
    """A claimed build failed: put the mark back so the retry or reconcile builds it."""
    Rollup.objects.filter(trust_id=trust_id, unit=None, month=month_of(timezone.localdate()),
                          dirty_since__isnull=True).update(dirty_since=timezone.now())


def trusts_behind() -> list[int]:
    """Trusts whose roll-up for this month is missing, still wanted, marked by the
    database (a write that sent no signal: QuerySet.update, bulk_create) or older than
    their newest measure snapshot (a build lost with a dead broker or a killed worker)."""
    month = month_of(timezone.localdate())
    built = {tid: (at, dirty) for tid, at, dirty in Rollup.objects.filter(
        unit=None, month=month).values_list("trust_id", "built_at", "dirty_since")}
    newest = dict(MeasureSnapshot.objects.order_by().values("measure__project__trust_id")
                  .annotate(last=Max("computed_at"))
                  .values_list("measure__project__trust_id", "last"))
    with_projects = trusts_with_projects()
    marks = set(RollupMark.objects.values_list("trust_id", flat=True))
    # A mark of a trust with no projects left (its last one deleted, or the trust gone):
    # build it once if the trust is there (its figures go to zero), else drop the mark.
    gone = marks - set(with_projects) - set(Trust.objects.filter(pk__in=marks)
                                            .values_list("pk", flat=True))
    if gone:
        RollupMark.objects.filter(trust_id__in=gone).delete()
    behind = []
    for tid in sorted(set(with_projects) | (marks - gone)):
        at, dirty = built.get(tid, (None, None))
        if (at is None or dirty is not None or tid in marks
                or (newest.get(tid) and newest[tid] > at)):
            behind.append(tid)
    return behind


def trusts_with_projects() -> list[int]:
    return list(Trust.objects.filter(projects__isnull=False).distinct().order_by("pk")
                .values_list("pk", flat=True))


def trust_ids_of_measures(measure_ids) -> list[int]:
    return list(Measure.objects.filter(pk__in=id_list(measure_ids)).order_by()
                .values_list("project__trust_id", flat=True).distinct())
