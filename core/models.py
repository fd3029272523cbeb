"""Model helpers every app's services share: validate and save with history, keep a
sibling order. No app imports here; services call these inside their own transactions."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Max


def save_validated(instance, *, by, exclude=None):
    """`full_clean()` then save, recording `by` as the history user."""
    instance.full_clean(exclude=exclude)
    instance._history_user = by
    instance.save()
    return instance


def next_position(qs) -> int:
    top = qs.aggregate(m=Max("position"))["m"]
    return 0 if top is None else top + 1


def move(instance, siblings, direction: str, *, by) -> None:
    """Swap `instance` with its neighbour; positions are renumbered 0..n-1 first."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": "Choose up or down."})
    items = list(siblings.select_for_update().order_by("position", "id"))
    index = next(i for i, item in enumerate(items) if item.pk == instance.pk)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            item._history_user = by
            item.save(update_fields=["position"])
            if item.pk == instance.pk:
                instance.position = position
