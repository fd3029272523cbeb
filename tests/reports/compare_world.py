"""Shared set-up for the comparison tests: trusts with projects whose measures follow one
national definition, with monthly numerators and denominators written straight to the
database (the comparisons read DataPoint rows; how they got there is measures' business)."""

from __future__ import annotations

import datetime as dt

from measures.models import DataPoint, Measure
from reports.models import NationalAdoption, NationalMeasure
from tests.factories import MeasureFactory, ProjectFactory, TrustFactory

_B36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MONTHS = [dt.date(2026, m, 1) for m in range(1, 7)]


def national_measure(by, *, chart="p", rate_per=1, name="Sepsis antibiotics within 1 hour"):
    return NationalMeasure.objects.create(
        name=name, topic="Sepsis", definition="Adults with red-flag sepsis given antibiotics "
        "within an hour of arrival.", numerator="Given within 1 hour",
        denominator="Adults with red-flag sepsis", chart=chart, rate_per=rate_per,
        direction=Measure.Direction.INCREASE, frequency=Measure.Frequency.MONTHLY,
        published_by=by)


def adopt(nm, project, by, *, name=None) -> Measure:
    measure = MeasureFactory(project=project, chart=nm.chart, name=name or nm.name,
                             direction=nm.direction)
    NationalAdoption.objects.create(national_measure=nm, measure=measure, adopted_by=by)
    return measure


def points(measure, rows) -> None:
    """rows: [(period, numerator, denominator)]"""
    DataPoint.objects.bulk_create([
        DataPoint(measure=measure, period=p, numerator=n, denominator=d) for p, n, d in rows])


def trusts_with_data(nm, by, n: int, *, first=None, months=MONTHS, rate=lambda i, m: 0.6):
    """n trusts (the first may be given), each with one project and one adopted measure,
    `den` 100 a month and numerator round(rate(i, month index) * 100)."""
    out = []
    for i in range(n):
        trust = first if (i == 0 and first is not None) else TrustFactory(
            ods_code="Z" + _B36[i // 36] + _B36[i % 36], name=f"Comparison Trust {i:03d}")
        project = ProjectFactory(trust=trust)
        measure = adopt(nm, project, by)
        points(measure, [(m, round(rate(i, k) * 100), 100) for k, m in enumerate(months)])
        out.append((trust, measure))
    return out
