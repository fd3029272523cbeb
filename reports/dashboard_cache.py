"""The trust and unit dashboards, kept rendered: a reader's page costs what a bare page
costs (the session, the access check, one cache read), whatever the size of the trust.

A rendered dashboard is kept under a key of what decides its content: the trust, the unit,
whose projects the reader may view (`access.dashboard_scope`, so readers who may view the
same projects share one copy and nobody is shown a project they may not see), the page's
`show`, `sort` and `page`, and today's date (the "last 30 days" and stale counts move at
midnight). Each copy holds its trust's generation token; a copy whose token is not the
trust's current one is out of date and is rebuilt.

The token is replaced (`touch`) after every commit that changes what a dashboard of the
trust shows: a project, unit, measure, PDSA cycle, change idea or progress score saved or
deleted (`reports.signals`), snapshots stored (`measures.signals.snapshots_stored`), a
roll-up asked for or built (`reports.tasks`). Writes that send no signal (a
`QuerySet.update` elsewhere) are bounded by the copies' lifetime, TTL.

The cache is "dashboards" (Redis when REDIS_URL is set, so the workers' rebuilds reach
every web process). It fails open: when it cannot be read the page is built live, and
when a token cannot be replaced the copies expire within TTL.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable

from django.core.cache import caches
from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

ALIAS = "dashboards"
TTL = 600  # seconds a rendered copy is kept at most
MAX_PAGE = 10_000


def _cache():
    return caches[ALIAS]


def _generation_key(trust_id: int) -> str:
    return f"dash:gen:{trust_id}"


def page_params(get, show_choices: Iterable[str], sort_choices: Iterable[str]) -> tuple:
    """(show, sort, page) of a dashboard's query string, normalised as the page reads them
    (an unknown value is the default), so that odd query strings share one copy."""
    show = get.get("show", "")
    sort = get.get("sort", "project")
    try:
        page = min(max(int(get.get("page", 1)), 1), MAX_PAGE)
    except (TypeError, ValueError):
        page = 1
    return (show if show in show_choices else "", sort if sort in sort_choices else "project",
            page)


def fragment_key(trust_id: int, unit_id: int | None, scope: str, params: tuple) -> str:
    parts = [str(trust_id), str(unit_id or 0), scope, *map(str, params),
             timezone.localdate().isoformat()]
    return "dash:page:" + ":".join(part.replace(":", "_") for part in parts)


def get_or_build(trust_id: int, key: str, build: Callable[[], dict]) -> tuple[dict, bool]:
    """(the kept copy under `key` if its trust's token is current, else `build()` kept
    under it; whether it was kept). One cache round trip for a kept copy."""
    cache = _cache()
    gen_key = _generation_key(trust_id)
    try:
        found = cache.get_many([gen_key, key])
    except Exception:  # noqa: BLE001 — a cache that is down: build the page live
        log.warning("dashboard cache unavailable; building trust %s live", trust_id)
        return build(), False
    generation = found.get(gen_key)
    copy = found.get(key)
    if generation is not None and copy is not None and copy.get("generation") == generation:
        return copy, True
    try:
        if generation is None:  # first reader since the token expired or was never set
            generation = uuid.uuid4().hex
            if not cache.add(gen_key, generation, timeout=None):
                generation = cache.get(gen_key)
    except Exception:  # noqa: BLE001
        log.warning("dashboard cache unavailable; building trust %s live", trust_id)
        return build(), False
    # Take the token before building: a change committed while we build replaces it, so
    # this copy is already out of date and the next reader builds again.
    fresh = {**build(), "generation": generation}
    try:
        cache.set(key, fresh, timeout=TTL)
    except Exception:  # noqa: BLE001
        log.warning("could not keep the dashboard of trust %s", trust_id)
    return fresh, False


def touch(trust_ids: Iterable[int | None]) -> None:
    """Mark every kept dashboard of these trusts out of date (a new token each; never an
    increment, which two writers could repeat): now, and again once the current
    transaction commits, since a reader in between may have kept a copy built without
    the change (it still could not see it)."""
    ids = sorted({tid for tid in trust_ids if tid is not None})
    if not ids:
        return

    def replace():
        try:
            _cache().set_many({_generation_key(tid): uuid.uuid4().hex for tid in ids},
                              timeout=None)
        except Exception:  # noqa: BLE001 — kept copies expire within TTL
            log.warning("could not mark the dashboards of %d trust(s) out of date", len(ids))

    replace()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(replace)
