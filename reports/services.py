"""Dashboard writes: board packs, asked for on a page and built by Celery."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from organisations import access
from organisations.access import Permission
from reports import tasks
from reports.models import BoardPack

log = logging.getLogger(__name__)


@transaction.atomic
def board_pack_request(*, trust, unit=None, month, by) -> BoardPack:
    """Ask for a board pack of `trust` (or one of its units) for `month`; built on commit.

    The same person asking again for the same pack while one is waiting or being built
    gets that one (a double click makes one pack, not two)."""
    access.check(by, Permission.TRUST_DASHBOARD_VIEW, trust=trust)
    if unit is not None and unit.trust_id != trust.pk:
        raise ValidationError({"unit": "Choose a division or ward of this trust."})
    month = month.replace(day=1)
    if month > timezone.localdate():
        raise ValidationError({"month": "Choose this month or an earlier one."})
    pending = BoardPack.objects.filter(
        trust=trust, unit=unit, month=month, requested_by=by,
        status__in=[BoardPack.Status.QUEUED, BoardPack.Status.BUILDING],
    ).first()
    if pending:
        return pending
    pack = BoardPack.objects.create(trust=trust, unit=unit, month=month, requested_by=by)
    transaction.on_commit(lambda: _enqueue(pack.pk))
    return pack


def _enqueue(pack_id: int) -> None:
    try:
        tasks.build_board_pack.delay(pack_id)
    except Exception:  # noqa: BLE001 — broker down: the page offers to ask again
        log.warning("Could not enqueue board pack %s", pack_id)
