"""Full-text search for any queryset: filtered, ranked, with highlighted snippets.

    qs = search(Project.objects.all(), {"title": "A", "aim": "B"}, "huddle -night")
    for project in qs:             # best first; each row has `search_rank`
        highlight(project, "aim", "huddle -night")   # safe HTML, matches in <mark>

The query uses web-search syntax on both engines: words (all must match), "quoted
phrases", and -word to exclude.

- PostgreSQL: `to_tsvector('english', …)` with the given weights (A > B > C > D),
  `websearch_to_tsquery`, `ts_rank` and `ts_headline` (django.contrib.postgres.search). Pass
  `vector_field=` to use a stored, GIN-indexed tsvector column instead of building the
  vector per row (what the learning repository does for national scale).
- SQLite (the embedded default) and anything else: a plain fallback in SQL. Query words are
  lower-cased, English stop words dropped and each word cut to a crude stem ("huddles",
  "huddling" → "huddl"), every stem must occur (case-insensitive substring) in one of the
  fields, and the rank is the sum of the weights of the fields each stem occurs in.

Highlights are escaped HTML: only the <mark> tags the engine adds are markup, so text typed
by users can never inject HTML (no stored XSS).

core imports no app: callers pass their queryset and field names (which may be annotations,
see `JoinedText` for text from related rows).
"""

from __future__ import annotations

import re
from functools import reduce
from operator import add, and_, or_

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
)
from django.db import connections
from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    F,
    FloatField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

CONFIG = "english"
WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}
MAX_TERMS = 8
# ts_headline marks matches with these (private-use characters that escape() leaves alone);
# they become <mark> tags only after the text around them is escaped.
_START, _STOP = "\ue000", "\ue001"
_MARK_OPEN, _MARK_CLOSE = "<mark>", "</mark>"
SNIPPET_WORDS = 30

STOP_WORDS = frozenset(
    "a an and are as at be before by for from has have in into is it its of on or our than "
    "that the their then there these this to was we were what when which who will with"
    .split()
)
_WORD = re.compile(r"\w+", re.UNICODE)
_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


class JoinedText(Aggregate):
    """Text of related rows joined by spaces (string_agg on PostgreSQL, group_concat on
    SQLite), e.g. in a correlated subquery, so a row's change ideas can be searched without
    duplicating the row."""

    function = "GROUP_CONCAT"
    template = "%(function)s(%(expressions)s, ' ')"
    output_field = TextField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, function="STRING_AGG",
                           template="%(function)s((%(expressions)s)::text, ' ')", **extra)


def is_postgresql(qs: QuerySet) -> bool:
    return connections[qs.db].vendor == "postgresql"


# ---- the query, parsed once for the fallback and the highlighter --------------------------


def stem(word: str) -> str:
    """A crude English stem, enough for substring matching: plurals, -ing, -ed, final -e."""
    w = word.lower()
    for suffix, keep in (("sses", "ss"), ("ies", ""), ("ing", ""), ("ed", ""), ("es", "e"),
                         ("s", "")):
        if w.endswith(suffix) and len(w) - len(suffix) + len(keep) >= 3:
            if suffix == "s" and w.endswith(("ss", "us", "is")):
                continue
            w = w[: len(w) - len(suffix)] + keep
            break
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def parse(query: str) -> tuple[list[str], list[str]]:
    """(terms that must match, terms that must not). A term is a stem or, for a quoted
    phrase, the phrase's words with the last one stemmed. Stop words are dropped."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for minus_q, phrase, minus_w, word in _TERM.findall(query or ""):
        text = phrase if phrase else word
        words = [w.lower() for w in _WORD.findall(text)]
        if phrase:
            words = [w for w in words if w not in STOP_WORDS] if len(words) == 1 else words
            term = " ".join(words[:-1] + [stem(words[-1])]) if words else ""
            terms = [term] if term else []
        else:
            terms = [stem(w) for w in words if w not in STOP_WORDS and w != "or"]
        (unwanted if (minus_q or minus_w) else wanted).extend(terms)
    return wanted[:MAX_TERMS], unwanted[:MAX_TERMS]


# ---- search -------------------------------------------------------------------------------


def search(qs: QuerySet, fields: dict[str, str], query: str, *, vector_field: str = "",
           headline_fields: tuple[str, ...] = (),
           whole_fields: tuple[str, ...] = ("title",)) -> QuerySet:
    """`qs` narrowed to rows matching `query`, annotated with `search_rank` (higher is
    better) and ordered by it (ties by pk). `fields` maps field or annotation names to
    weights "A"–"D". On PostgreSQL each name in `headline_fields` gets a
    `search_headline_<name>` annotation for `highlight`: fragments around the matches, or
    the whole text for short fields named in `whole_fields` (a title cut to "Discharge
    before noon" loses "on the AMU"). A blank query matches nothing."""
    if not (query or "").strip():
        return qs.none()
    if is_postgresql(qs):
        return _search_postgresql(qs, fields, query, vector_field, headline_fields,
                                  whole_fields)
    return _search_fallback(qs, fields, query)


def _search_postgresql(qs, fields, query, vector_field, headline_fields, whole_fields):
    tsquery = SearchQuery(query, search_type="websearch", config=CONFIG)
    if vector_field:
        vector = F(vector_field)
        qs = qs.filter(**{vector_field: tsquery})
    else:
        vector = reduce(add, [SearchVector(name, weight=weight, config=CONFIG)
                              for name, weight in fields.items()])
        qs = qs.annotate(search_vector_=vector).filter(search_vector_=tsquery)
        vector = F("search_vector_")
    qs = qs.annotate(search_rank=SearchRank(vector, tsquery))
    return with_headlines(qs, query, headline_fields, whole_fields=whole_fields).order_by(
        "-search_rank", "pk")


def with_headlines(qs: QuerySet, query: str, fields: tuple[str, ...], *,
                   whole_fields: tuple[str, ...] = ("title",)) -> QuerySet:
    """`qs` with a `search_headline_<name>` annotation for each of `fields` on PostgreSQL
    (unchanged elsewhere: `highlight` then uses the Python highlighter). For loading a
    ranked page's rows in full after ranking only their keys: a ranked query that carries
    every column of every match through its sort is the slower part (issue 21)."""
    if not fields or not (query or "").strip() or not is_postgresql(qs):
        return qs
    tsquery = SearchQuery(query, search_type="websearch", config=CONFIG)
    for name in fields:
        shape = ({"highlight_all": True} if name in whole_fields else
                 {"max_words": SNIPPET_WORDS, "min_words": 12, "max_fragments": 2,
                  "fragment_delimiter": " … "})
        qs = qs.annotate(**{f"search_headline_{name}": SearchHeadline(
            name, tsquery, config=CONFIG, start_sel=_START, stop_sel=_STOP, **shape,
        )})
    return qs


def _search_fallback(qs, fields, query):
    wanted, unwanted = parse(query)
    if not wanted:
        return qs.none()

    def anywhere(term):
        return reduce(or_, [Q(**{f"{name}__icontains": term}) for name in fields])

    qs = qs.filter(reduce(and_, [anywhere(term) for term in wanted]))
    for term in unwanted:
        qs = qs.exclude(anywhere(term))
    rank = reduce(add, [
        Case(When(Q(**{f"{name}__icontains": term}), then=Value(WEIGHTS[weight])),
             default=Value(0.0), output_field=FloatField())
        for term in wanted for name, weight in fields.items()
    ])
    return qs.annotate(search_rank=rank).order_by("-search_rank", "pk")


# ---- PostgreSQL: documents served by an expression GIN index ------------------------------
# For tables searched in place (no stored vector), a migration creates
# `CREATE INDEX … USING gin (<document>)` and queries use the same <document> SQL, so the
# planner answers `@@` from the index. <document> names the table's own columns, e.g.
# "to_tsvector('english', coalesce(text, ''))".


def document_matches(document_sql: str, query: str) -> RawSQL:
    """`<document> @@ websearch_to_tsquery('english', query)` as a boolean expression."""
    return RawSQL(f"({document_sql}) @@ websearch_to_tsquery('{CONFIG}', %s)", [query],
                  output_field=BooleanField())


def document_rank(document_sql: str, query: str) -> RawSQL:
    return RawSQL(f"ts_rank({document_sql}, websearch_to_tsquery('{CONFIG}', %s))", [query],
                  output_field=FloatField())


# ---- highlighting -------------------------------------------------------------------------


def _from_headline(raw: str) -> SafeString:
    # Escape everything typed by people, then turn only the engine's markers into tags.
    html = escape(raw).replace(_START, _MARK_OPEN).replace(_STOP, _MARK_CLOSE)
    return mark_safe(html)  # noqa: S308 - escaped above; only our <mark> tags are markup


def highlight_text(text: str, query: str, *, words: int = SNIPPET_WORDS) -> SafeString:
    """Escaped HTML of `text` (cut to about `words` words around the first match) with every
    word that matches a query term wrapped in <mark>."""
    text = text or ""
    wanted, _ = parse(query)
    stems = [t.split()[0] if " " in t else t for t in wanted]
    stems += [w for t in wanted if " " in t for w in t.split()[1:]]
    tokens = list(_WORD.finditer(text))
    hits = [i for i, m in enumerate(tokens) if any(m.group().lower().startswith(s)
                                                   for s in stems)]
    start_i = max(0, (hits[0] if hits else 0) - words // 3)
    end_i = min(len(tokens), start_i + words)
    if not tokens:
        return mark_safe(escape(text))  # noqa: S308 - escaped
    begin = tokens[start_i].start() if start_i else 0
    end = tokens[end_i - 1].end() if end_i < len(tokens) else len(text)
    hit_set = set(hits)
    out = ["… " if begin else ""]
    pos = begin
    for i in range(start_i, end_i):
        m = tokens[i]
        out.append(escape(text[pos:m.start()]))
        word = escape(m.group())
        out.append(f"{_MARK_OPEN}{word}{_MARK_CLOSE}" if i in hit_set else word)
        pos = m.end()
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append(" …")
    return mark_safe("".join(out))  # noqa: S308 - every piece of text is escaped


def highlight(row, field: str, query: str) -> SafeString:
    """The highlighted snippet of `row.<field>`: PostgreSQL's ts_headline when `search`
    annotated it, else the Python highlighter. Always escaped."""
    raw = getattr(row, f"search_headline_{field}", None)
    if raw is not None:
        if _START in raw:
            return _from_headline(raw)
        # ts_headline found no match in this field: show its start, unmarked.
        return highlight_text(getattr(row, field, "") or "", query)
    return highlight_text(getattr(row, field, "") or "", query)
