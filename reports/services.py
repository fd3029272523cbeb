"""Dashboard writes: board packs, asked for on a page and built by Celery."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from measures import services as measure_services
from measures.models import Measure
from organisations import access
from organisations.access import Permission
from reports import rollups, tasks
from reports.models import BoardPack, ComparisonSetting, NationalAdoption, NationalMeasure

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


def rollups_catch_up(trust_id: int) -> None:
    """A write that sent no signal (QuerySet.update, bulk_create) left the database's mark
    on the trust (reports.db_triggers): ask for the build now, so the dashboard about to be
    shown says "Updating…" and is rebuilt, rather than waiting for the periodic reconcile.
    One indexed read when there is no mark."""
    if rollups.marked(trust_id):
        tasks.request_rollups(trust_id)


# ---- national definitions, the centre's comparison setting, adoptions (reports.comparisons) --
# Each write checks organisations.access, runs in one transaction and asks for the
# comparison's rebuild on commit (debounced, see reports.tasks.request_comparison).

NATIONAL_FIELDS = ("name", "topic", "definition", "numerator", "denominator", "unit_label",
                   "chart", "rate_per", "direction", "frequency")


def _rebuild_national_on_commit(national_measure_id: int) -> None:
    transaction.on_commit(lambda: tasks.request_comparison("national", national_measure_id))


@transaction.atomic
def national_measure_save(*, by, instance: NationalMeasure | None = None,
                          **fields) -> NationalMeasure:
    """Publish a national definition, or change one (its comparison is rebuilt)."""
    access.check_publish_national(by)
    unknown = set(fields) - set(NATIONAL_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    nm = instance or NationalMeasure(published_by=by)
    if (instance is not None and fields.get("chart", instance.chart) != instance.chart
            and instance.adoptions.exists()):
        raise ValidationError({"chart": "Trusts have adopted this definition, so its chart "
                                        "cannot change."})
    if (instance is not None and "rate_per" in fields
            and int(fields["rate_per"] or 1) != instance.rate_per
            and instance.chart == Measure.Chart.U and instance.adoptions.exists()):
        raise ValidationError({"rate_per": "Trusts have adopted this definition, so its rate "
                                           "cannot change: their charts and targets are in "
                                           "this unit."})
    for name, value in fields.items():
        setattr(nm, name, value)
    if nm.chart == Measure.Chart.P:
        nm.rate_per = 1
    nm.full_clean()
    nm.save()
    _rebuild_national_on_commit(nm.pk)
    return nm


@transaction.atomic
def comparison_setting_save(*, by, name_trusts: bool) -> ComparisonSetting:
    """The centre's choice: show other trusts named or anonymised to trust users."""
    access.check_publish_national(by)
    row, _ = ComparisonSetting.objects.update_or_create(
        pk=1, defaults={"name_trusts": bool(name_trusts), "changed_by": by})
    return row


@transaction.atomic
def national_adopt(*, national_measure: NationalMeasure, by, measure: Measure | None = None,
                   project=None) -> NationalAdoption:
    """Link an existing measure to a national definition, or create a measure from the
    definition in `project`: exactly one of `measure` and `project`."""
    if (measure is None) == (project is None):
        raise ValidationError("Choose one of your measures, or a project to add a new one to.")
    if measure is not None:
        access.check_adopt_national(by, measure.project)
        if measure.chart != national_measure.chart:
            raise ValidationError({"measure": f"This definition needs a "
                                              f"{national_measure.get_chart_display()}; that "
                                              f"measure is a {measure.get_chart_display()}."})
        if NationalAdoption.objects.filter(measure=measure).exists():
            raise ValidationError({"measure": "That measure already follows a national "
                                              "definition."})
        if measure.chart == Measure.Chart.U and measure.rate_per != national_measure.rate_per:
            # The definition's rate carries to the measure: its chart, limits and every figure
            # read from them are then per the same number as the comparison.
            change = {"rate_per": national_measure.rate_per}
            if measure.target is not None:  # the same target, in the new unit
                change["target"] = measure.target * national_measure.rate_per / measure.rate_per
            measure_services.measure_update(measure=measure, by=by, **change)
    else:
        access.check_adopt_national(by, project)
        text = (f"{national_measure.definition}\n\nNumerator: {national_measure.numerator}\n"
                f"Denominator: {national_measure.denominator}\n(The national definition.)")
        measure = measure_services.measure_create(
            project=project, by=by, name=national_measure.name[:200], kind="outcome",
            definition=text, unit_label=national_measure.unit_label[:50],
            frequency=national_measure.frequency, chart=national_measure.chart,
            direction=national_measure.direction, rate_per=national_measure.rate_per)
    adoption = NationalAdoption(national_measure=national_measure, measure=measure,
                                adopted_by=by)
    adoption.full_clean()
    adoption.save()
    _rebuild_national_on_commit(national_measure.pk)
    return adoption


@transaction.atomic
def national_unadopt(*, adoption: NationalAdoption, by) -> None:
    """Stop comparing a measure on its national definition (the measure stays)."""
    access.check_adopt_national(by, adoption.measure.project)
    national_measure_id = adoption.national_measure_id
    adoption.delete()
    _rebuild_national_on_commit(national_measure_id)
