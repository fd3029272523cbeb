"""Keyset ("cursor") pagination for the API's large lists (issue 21).

A page-number list counts every visible row on every page (``COUNT(*)`` over 3 million
data points for the national analyst) and walks ``OFFSET`` rows to reach a late page.
`KeysetPagination` does neither: rows come in the stable order ``(updated_at, id)``, one
index range from where the last page stopped (``(updated_at, id) > (t, i)``, backed by an
index on ``(updated_at, id)``), and each page links to the next:

    {"next": ".../?cursor=…", "previous": null, "results": [...]}

- ``?page_size=`` (1 to 1,000, default ``PAGE_SIZE``); ``?count=true`` adds ``count``, the
  one whole-list count, for a client that asks for it.
- The order suits incremental sync: a row changed while a client pages through moves to the
  end, where the client meets it again, so nothing is missed. With ``?updated_since=`` the
  list is the same order from that moment.
- ``?page=N`` (the earlier page-number form, with ``count``) still answers, for clients
  written before; it is deprecated: its answers carry ``Deprecation: true`` and a ``Link``
  to the cursor form.
- A cursor that was not given by the API answers 400 naming ``cursor``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from rest_framework import exceptions
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api import UPDATED_SINCE

MAX_PAGE_SIZE = 1000
BAD_CURSOR = "This cursor was not given by the API: follow the list's next or previous link."


def _encode(forward: bool, moment: dt.datetime, pk: int) -> str:
    raw = json.dumps(["n" if forward else "p", moment.isoformat(), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[bool, dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        way, moment, pk = json.loads(raw)
        when = parse_datetime(moment)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise exceptions.ValidationError({"cursor": [BAD_CURSOR]}) from None
    if way not in ("n", "p") or when is None or when.tzinfo is None or type(pk) is not int:
        raise exceptions.ValidationError({"cursor": [BAD_CURSOR]})
    return way == "n", when, pk


class KeysetPagination(BasePagination):
    """See the module docstring."""

    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    count_query_param = "count"
    legacy_query_param = "page"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.legacy = None
        if request.query_params.get(self.legacy_query_param) is not None:
            self.legacy = PageNumberPagination()
            return self.legacy.paginate_queryset(queryset, request, view)
        size = self._page_size(request)
        self.count = None
        asked = request.query_params.get(self.count_query_param)
        if asked not in (None, "", "true", "false"):
            raise exceptions.ValidationError({self.count_query_param: [
                "Send true, or leave it out."]})
        if asked == "true":
            self.count = queryset.order_by().count()
        token = request.query_params.get(self.cursor_query_param)
        forward, after = True, None
        if token:
            forward, moment, pk = _decode(token)
            after = (moment, pk)
        # The list's own order: oldest change first, or newest first where the view says so
        # (the PDSA cycles, read by people) unless it is a sync (?updated_since=).
        newest_first = getattr(view, "newest_first", False) and not request.query_params.get(
            UPDATED_SINCE)
        ascending = forward != newest_first  # the way this request walks the index
        qs = queryset.order_by(*(("updated_at", "id") if ascending else ("-updated_at", "-id")))
        if after:
            # A row comparison, `(updated_at, id) > (t, i)`: PostgreSQL starts its index scan
            # there (measured: 0.4 ms half-way through 200,000 points whose updated_at are
            # mostly equal, against 22 ms for the same test spelt with OR).
            beyond = TupleGreaterThan if ascending else TupleLessThan
            qs = qs.filter(beyond(Tuple(F("updated_at"), F("id")), after))
        rows = list(qs[: size + 1])
        more = len(rows) > size
        rows = rows[:size]
        if not forward:
            rows.reverse()
        # Forward: a next page if more rows follow, a previous one if we came from a cursor.
        # Backward: the other way round. An empty page back from a cursor links forward to it.
        self.next_key = self.previous_key = None
        if rows:
            first, last = rows[0], rows[-1]
            if more if forward else after:
                self.next_key = (True, last.updated_at, last.pk)
            if after if forward else more:
                self.previous_key = (False, first.updated_at, first.pk)
        elif after and not forward:
            self.next_key = (True, after[0], after[1] + (1 if newest_first else -1))
        return rows

    def _page_size(self, request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return settings.REST_FRAMEWORK["PAGE_SIZE"]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
            raise exceptions.ValidationError({self.page_size_query_param: [
                f"Give a whole number from 1 to {MAX_PAGE_SIZE}."]})
        return int(raw)

    def _link(self, key) -> str | None:
        if key is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.count_query_param)
        return replace_query_param(url, self.cursor_query_param, _encode(*key))

    def get_paginated_response(self, data):
        if self.legacy is not None:
            response = self.legacy.get_paginated_response(data)
            response["Deprecation"] = "true"
            first = remove_query_param(self.request.build_absolute_uri(),
                                       self.legacy_query_param)
            response["Link"] = f'<{first}>; rel="successor-version"'
            return response
        body = {"next": self._link(self.next_key), "previous": self._link(self.previous_key)}
        if self.count is not None:
            body["count"] = self.count
        body["results"] = data
        return Response(body)

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page, or null at the end."},
                "previous": {**link, "description": "The page before, or null."},
                "count": {"type": "integer", "description":
                          "Every row of the list: only with ?count=true (or ?page=)."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Where the page starts: the cursor in a next or previous link.",
             "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Rows per page, 1 to {MAX_PAGE_SIZE} "
                            f"(default {settings.REST_FRAMEWORK['PAGE_SIZE']}).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}},
            {"name": self.count_query_param, "required": False, "in": "query",
             "description": "true: add count, the number of rows in the whole list "
                            "(one count over it; leave it out when paging).",
             "schema": {"type": "boolean"}},
            {"name": self.legacy_query_param, "required": False, "in": "query",
             "deprecated": True,
             "description": "Deprecated: the earlier page-number form (counts the whole "
                            "list on every page). Follow next links instead.",
             "schema": {"type": "integer", "minimum": 1}},
        ]


class CappedPaginator(Paginator):
    """Page numbers for a ranked search, counting no further than `cap` matches.

    Counting every match of a common word ("falls": 28,000 of the learning repository's
    263,000 rows) cost as much as ranking them (issue 21). Past `cap` the page says "more
    than 1,000" and offers the first cap / per_page pages: nobody pages past the 50th
    of a ranked list; they narrow the search. `capped` tells the template which to say.
    """

    def __init__(self, object_list, per_page, *, cap: int = 1000, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _found(self) -> int:
        return self.object_list.order_by().values("pk")[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._found, self.cap)

    @property
    def capped(self) -> bool:
        return self._found > self.cap

    @property
    def pages_label(self) -> str:
        """What the pagination component shows after "Page 2 of": "50", or "50 or more"."""
        return f"{self.num_pages} or more" if self.capped else str(self.num_pages)
