"""Everything that happened to a project and what is in it, newest first, a page at a time.

The history spans three layers (charter, team, scores and driver diagram from projects;
measures and data from measures; PDSA cycles from pdsa), so it is collected here. Every
write goes through a service that records a django-simple-history row with its actor
(uploads and the API bulk save each point through `core.models.save_validated`), and
progress scores are themselves append-only history, so the rows are read as they are.

A page costs the same queries however long the history is:

1. one UNION ALL of (source, key, time) across the history tables of the chosen kinds,
   ordered and cut to the page with LIMIT/OFFSET (plus the paginator's COUNT of it);
2. per source on the page, one query for its rows (each with the key of the row before it,
   by a subquery) and one for those earlier rows, to show what changed from what;
3. one query per kind of name the rows point at (people, units, trusts, drivers, change
   ideas, measures, cycles), read from the history tables so that removed things keep
   their names.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import (
    CharField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.text import Truncator

from measures.models import DataPoint, Measure
from organisations.models import Trust, Unit, User
from pdsa.models import Cycle
from projects.models import PROGRESS_LABELS, ChangeIdea, Driver, ProgressScore, Project, TeamMember

PAGE_SIZE = 50
TEXT_LIMIT = 200  # characters of a long text shown before "…"
SUBJECT_LIMIT = 80

# What the filter offers, in the order the page lists them.
KINDS = {
    "charter": "Charter",
    "team": "Team",
    "score": "Progress score",
    "diagram": "Driver diagram",
    "measure": "Measure",
    "data": "Data",
    "cycle": "PDSA cycle",
}

# Bookkeeping, not anything a person changed: timestamps, the dirty marks of the SPC
# rebuild, the denormalised latest score (shown as its own events), optimistic-locking
# versions, the normalised text the duplicate check searches, and the owner links that
# never change.
SKIPPED = frozenset({
    "id", "created_at", "updated_at", "created_by", "project", "recorded_at", "recorded_by",
    "progress_score", "progress_scored_on", "dirty_since", "data_changed_at",
    "version", "data_version", "measure", "number", "match_title", "match_aim",
})

FIELD_LABELS = {
    (TeamMember, "user"): "Person",
    (TeamMember, "name"): "Partner's name",
    (Driver, "parent"): "Primary driver",
    (Driver, "text"): "Text",
    (ChangeIdea, "text"): "Text",
    (Measure, "driver"): "Driver",
    (Measure, "unit_label"): "Unit",
    (Cycle, "change_idea"): "Change idea",
}
POSITION_LABEL = "Order"

ACTIONS = {"+": "added", "~": "changed", "-": "removed"}


@dataclass(frozen=True)
class Source:
    """One table of history rows: its kind on the page and how to find a project's rows."""

    name: str
    kind: str
    model: type  # the live model, whose fields label and format the values
    rows: Callable[[int], QuerySet]  # project id -> that project's history rows

    @property
    def historical(self) -> bool:
        return self.model is not ProgressScore

    @property
    def table(self):
        return self.model.history.model if self.historical else ProgressScore


def _measure_ids(project_id: int) -> QuerySet:
    # From the history, so the data of a removed measure keeps its past.
    return Measure.history.model.objects.filter(project_id=project_id).values("id")


def _idea_ids(project_id: int) -> QuerySet:
    return ChangeIdea.history.model.objects.filter(project_id=project_id).values("id")


SOURCES = [
    Source("project", "charter", Project,
           lambda pid: Project.history.model.objects.filter(id=pid)),
    Source("team", "team", TeamMember,
           lambda pid: TeamMember.history.model.objects.filter(project_id=pid)),
    Source("score", "score", ProgressScore,
           lambda pid: ProgressScore.objects.filter(project_id=pid)),
    Source("driver", "diagram", Driver,
           lambda pid: Driver.history.model.objects.filter(project_id=pid)),
    Source("idea", "diagram", ChangeIdea,
           lambda pid: ChangeIdea.history.model.objects.filter(project_id=pid)),
    Source("measure", "measure", Measure,
           lambda pid: Measure.history.model.objects.filter(project_id=pid)),
    Source("data", "data", DataPoint,
           lambda pid: DataPoint.history.model.objects.filter(measure_id__in=_measure_ids(pid))),
    Source("cycle", "cycle", Cycle,
           lambda pid: Cycle.history.model.objects.filter(change_idea_id__in=_idea_ids(pid))),
]
BY_NAME = {s.name: s for s in SOURCES}


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Event:
    when: datetime.datetime
    who: str
    kind: str  # a key of KINDS
    subject: str
    action: str  # added, changed, removed
    headline: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


# ---- the page of keys ---------------------------------------------------------------------


def _earlier(table) -> QuerySet:
    """The key of the history row just before the outer one, of the same object."""
    return (
        table.objects.filter(id=OuterRef("id"))
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )


def _same_as_before(source: Source) -> Exists:
    """True for a "changed" row whose shown fields all equal the row before it: a save
    that touched only bookkeeping (the latest score's copy on the charter, a dirty mark).
    Left out in SQL so that every page holds a full page of events and the count is true.

    Not for data points: they are most of a project's history (thousands of rows, where this
    check costs about ten times the rest of the query), and the data services save a point
    only when a value changed, so the rare empty change there is dropped after loading."""
    equal = Q()
    for f in _fields(source.model):
        name = f.attname
        equal &= Q(**{name: OuterRef(name)}) | (
            Q(**{f"{name}__isnull": True}) & IsNull(OuterRef(name), True)
        )
    return Exists(source.table.objects.filter(equal, history_id=OuterRef("ev_prev")))


def _keys(source: Source, project_id: int) -> QuerySet:
    qs = source.rows(project_id).order_by()
    if not source.historical:
        key, at = F("id"), F("recorded_at")
    else:
        key, at = F("history_id"), F("history_date")
        if source.name != "data":
            qs = qs.annotate(ev_prev=Subquery(_earlier(source.table))).exclude(
                Q(history_type="~") & _same_as_before(source)
            )
    # The same columns, in the same order, from every table, for the UNION.
    return qs.annotate(
        ev_source=Value(source.name, output_field=CharField()), ev_key=key, ev_at=at
    ).values_list("ev_source", "ev_key", "ev_at")


def event_keys(project: Project, kinds=()) -> QuerySet:
    """(source, key, time) of every event of `project` of the given kinds (all when none),
    newest first: one SQL statement, sliced by the paginator."""
    chosen = [s for s in SOURCES if not kinds or s.kind in kinds]
    first, *rest = [_keys(s, project.pk) for s in chosen]
    union = first.union(*rest, all=True) if rest else first
    return union.order_by("-ev_at", "-ev_source", "-ev_key")


# ---- loading the rows of a page -------------------------------------------------------------


def _load(source: Source, keys: list[int]) -> tuple[dict, dict]:
    """The page's rows of one source by key, and the rows just before them by key."""
    table = source.table
    if not source.historical:
        return {r.pk: r for r in table.objects.filter(pk__in=keys)}, {}
    rows = {
        r.history_id: r
        for r in table.objects.filter(history_id__in=keys)
        .annotate(prev_key=Subquery(_earlier(table)))
    }
    prev_keys = {r.prev_key for r in rows.values() if r.history_type == "~" and r.prev_key}
    previous = (
        {r.history_id: r for r in table.objects.filter(history_id__in=prev_keys)}
        if prev_keys else {}
    )
    return rows, previous


# Columns a service derives (editable=False) are bookkeeping too, such as the duplicate
# check's normalised words, except those a person reads as a change.
DERIVED_SHOWN = frozenset({(Cycle, "status")})


def _fields(model) -> list:
    return [
        f for f in model._meta.concrete_fields
        if f.name not in SKIPPED and (f.editable or (model, f.name) in DERIVED_SHOWN)
    ]


NAMED_IN_HISTORY = {
    Driver: ("text",),
    ChangeIdea: ("text",),
    Measure: ("name",),
    Cycle: ("number",),
}


def _label_of(model, values: dict) -> str:
    if model is Cycle:
        return f"Cycle {values['number']}"
    return values[NAMED_IN_HISTORY[model][0]]


def _names(wanted: dict[type, set]) -> dict[tuple[type, int], str]:
    """Display names of the things the rows point at: one query per kind of thing."""
    names: dict[tuple[type, int], str] = {}
    for model, ids in wanted.items():
        ids = {i for i in ids if i is not None}
        if not ids:
            continue
        if model is User:
            names |= {(User, u.pk): str(u) for u in User.objects.filter(pk__in=ids)
                      .only("full_name", "email")}
        elif model is Unit:
            names |= {(Unit, pk): name for pk, name in
                      Unit.objects.filter(pk__in=ids).values_list("pk", "name")}
        elif model is Trust:
            names |= {(Trust, pk): name for pk, name in
                      Trust.objects.filter(pk__in=ids).values_list("pk", "name")}
        elif model in NAMED_IN_HISTORY:
            table = model.history.model
            latest = (table.objects.filter(id__in=ids).values("id")
                      .annotate(latest=Max("history_id")).values("latest"))
            for values in table.objects.filter(history_id__in=latest).values(
                "id", *NAMED_IN_HISTORY[model]
            ):
                names[(model, values["id"])] = _label_of(model, values)
    return names


# ---- formatting -------------------------------------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _label(model, f) -> str:
    if f.name == "position":
        return POSITION_LABEL
    return FIELD_LABELS.get((model, f.name)) or _cap(str(f.verbose_name))


def _date(value: datetime.date) -> str:
    return f"{value.day} {value:%B %Y}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _display(model, f, value, names) -> str:
    if value is None or value == "":
        return "(none)"
    if f.is_relation:
        return names.get((f.related_model, value), "(removed)")
    if f.name == "position":
        return str(value + 1)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value)
        return f"{_date(value)}, {value:%H:%M}"
    if isinstance(value, datetime.date):
        return _date(value)
    if isinstance(value, float):
        return _number(value)
    return Truncator(str(value)).chars(TEXT_LIMIT)


def _is_blank(f, value) -> bool:
    return value is None or value == "" or value is False or f.name == "position"


def _changes(model, row, before, names) -> list[Change]:
    """Each shown field that differs from the row before (or, for an addition, that was
    filled in), labelled, with the values as the other pages show them."""
    out = []
    for f in _fields(model):
        new = getattr(row, f.attname)
        if before is None:
            if _is_blank(f, new):
                continue
            old_text = "(none)"
        else:
            old = getattr(before, f.attname)
            if old == new:
                continue
            old_text = _display(model, f, old, names)
        out.append(Change(_label(model, f), old_text, _display(model, f, new, names)))
    return out


def _quote(text) -> str:
    return f"‘{Truncator(str(text)).chars(SUBJECT_LIMIT)}’"


def _subject(source: Source, row, names) -> str:
    if source.name == "project":
        return row.title
    if source.name == "team":
        return names.get((User, row.user_id)) or row.name if row.user_id else row.name
    if source.name == "driver":
        level = "primary" if row.parent_id is None else "secondary"
        return f"{level} driver {_quote(row.text)}"
    if source.name == "idea":
        return f"change idea {_quote(row.text)}"
    if source.name == "measure":
        return row.name
    if source.name == "data":
        measure = names.get((Measure, row.measure_id), "a removed measure")
        return f"{measure}, {_date(row.period)}"
    if source.name == "cycle":
        idea = names.get((ChangeIdea, row.change_idea_id))
        return f"Cycle {row.number}" + (f" of {_quote(idea)}" if idea else "")
    raise ValueError(source.name)


def _headline(source: Source, row, action: str, subject: str, changes) -> str:
    if source.name == "project":
        if row.history_type == "+":
            return "Charter registered"
        if row.history_type == "-":
            return "Project removed"
        status_fields = {_label(Project, Project._meta.get_field(n))
                         for n in ("status", "stopped_reason")}
        if {c.field for c in changes} <= status_fields:
            return "Status changed"
        return "Charter changed"
    return f"{KINDS[source.kind]}: {subject} {action}"


def _score_event(score: ProgressScore, names) -> Event:
    label = PROGRESS_LABELS.get(score.score, "")
    subject = f"{score.score} {label}"
    return Event(
        when=score.recorded_at,
        who=names.get((User, score.recorded_by_id), "the system"),
        kind="score",
        subject=subject,
        action="added",
        headline=f"Progress score recorded: {subject} (as of {_date(score.scored_on)})",
        note=Truncator(score.comment).chars(TEXT_LIMIT * 5),
    )


def _wanted_names(source: Source, rows) -> dict[type, set]:
    wanted: dict[type, set] = defaultdict(set)
    relations = [f for f in source.model._meta.concrete_fields if f.is_relation]
    for row in rows:
        if source.historical:
            wanted[User].add(row.history_user_id)
        else:
            wanted[User].add(row.recorded_by_id)
        for f in relations:
            if f.name in SKIPPED and f.name != "measure":
                continue
            wanted[f.related_model].add(getattr(row, f.attname))
    # The cycle's subject names its change idea.
    if source.name == "cycle":
        wanted[ChangeIdea] |= {row.change_idea_id for row in rows}
    return wanted


# ---- the page -----------------------------------------------------------------------------------


@dataclass
class HistoryPage:
    page: Page
    events: list[Event]


def project_history(project: Project, *, kinds=(), page=None,
                    per_page: int = PAGE_SIZE) -> HistoryPage:
    """One page of `project`'s history, newest first; `kinds` are keys of KINDS (none:
    everything). The caller has checked that the user may view the project."""
    kinds = [k for k in kinds if k in KINDS]
    paged = Paginator(event_keys(project, kinds), per_page).get_page(page)
    entries = list(paged.object_list)
    by_source: dict[str, list[int]] = defaultdict(list)
    for name, key, _at in entries:
        by_source[name].append(key)

    loaded = {}
    wanted: dict[type, set] = defaultdict(set)
    for name, keys in by_source.items():
        source = BY_NAME[name]
        rows, previous = _load(source, keys)
        loaded[name] = (rows, previous)
        for model, ids in _wanted_names(source, [*rows.values(), *previous.values()]).items():
            wanted[model] |= ids
    names = _names(wanted)

    events = []
    for name, key, _at in entries:
        source = BY_NAME[name]
        rows, previous = loaded[name]
        row = rows.get(key)
        if row is None:  # removed between the two queries
            continue
        if not source.historical:
            events.append(_score_event(row, names))
            continue
        action = ACTIONS[row.history_type]
        if row.history_type == "-":
            changes = []
        else:
            before = previous.get(row.prev_key) if row.history_type == "~" else None
            if row.history_type == "~" and before is None:
                changes = []
            else:
                changes = _changes(source.model, row, before, names)
            if row.history_type == "~" and not changes:
                # Only bookkeeping changed (a dirty mark, the latest score's copy).
                continue
        subject = _subject(source, row, names)
        events.append(Event(
            when=row.history_date,
            who=names.get((User, row.history_user_id), "the system")
            if row.history_user_id else "the system",
            kind=source.kind,
            subject=subject,
            action=action,
            headline=_headline(source, row, action, subject, changes),
            changes=changes,
        ))
    return HistoryPage(page=paged, events=events)
