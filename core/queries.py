"""Small query helpers shared by the apps (no app imports: this is the bottom layer)."""

from __future__ import annotations

from django.db import connection
from django.db.models.expressions import RawSQL


def id_list(ids):
    """A right-hand side for `field__in` with many ids.

    On PostgreSQL the ids travel as one array parameter (`IN (SELECT unnest(%s))`): a
    literal list of 500 ids cost Django and psycopg more to write into the query than
    PostgreSQL spent answering it. Elsewhere (SQLite) the plain list.
    """
    ids = [int(i) for i in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return ids
