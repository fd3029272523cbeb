"""A board pack asked for on its page is built by the live Celery worker (through Redis, on
PostgreSQL), and the PDF it serves names the trust, the month and every measure with a
special cause."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from measures import snapshots
from measures.models import MeasureSnapshot
from reports.models import BoardPack
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory
from tests.integration.polling import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BASE = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12]
SHIFT_DOWN = BASE + [5, 4, 5, 6, 4, 5, 4, 5]  # better, for a "decrease" measure
SHIFT_UP = BASE + [16, 15, 17, 16, 15, 16, 17, 15]  # worse
STEADY = BASE + [10, 11, 10, 9, 11, 10, 9, 10]


def _wait_for(predicate, timeout=60.0):
    return wait_for(predicate, timeout)


def _measure(project, name, values):
    measure = MeasureFactory(project=project, name=name, chart="xmr", direction="decrease")
    for i, v in enumerate(values):
        DataPointFactory(measure=measure, period=dt.date(2024 + i // 12, i % 12 + 1, 1), value=v)
    return measure


def test_a_board_pack_is_built_by_the_worker_and_its_pdf_names_the_special_causes(
    live_worker, client, bob, alice, trust_a
):
    from qi_portal.celery import app

    assert not app.conf.task_always_eager  # the build goes to the worker, not this process
    project = ProjectFactory(
        trust=trust_a, lead=alice, visibility="trust", title="Fewer falls on Ward 7"
    )
    better = _measure(project, "Falls per 1,000 bed days", SHIFT_DOWN)
    worse = _measure(project, "Falls with harm", SHIFT_UP)
    steady = _measure(project, "Unwitnessed falls", STEADY)
    # The snapshots the pack reads, built (and committed) here before the pack is asked
    # for. The batch sends no snapshots_stored signal, so no roll-up or comparison build
    # is left queued on the shared worker when this test's data is flushed.
    assert snapshots.measures_refresh_batch([better.pk, worse.pk, steady.pk]) == 3
    icons = dict(MeasureSnapshot.objects.values_list("measure_id", "variation_icon"))
    assert icons[better.pk].startswith("improvement")
    assert icons[worse.pk].startswith("concern")
    assert icons[steady.pk] == "common_cause"

    month = timezone.localdate().replace(day=1)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        reverse("reports:board_packs", args=[trust_a.ods_code]),
        {"month": month.isoformat(), "unit": ""},
    )
    pack = BoardPack.objects.get()
    progress_url = reverse("reports:board_pack", args=[trust_a.ods_code, pack.pk])
    assert response.status_code == 302 and response.url == progress_url

    def ready():  # poll the progress page as the browser's refresh would
        page = client.get(progress_url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "could not be built" not in html, BoardPack.objects.get(pk=pack.pk).failure
        return "Download the PDF" in html

    assert _wait_for(ready, timeout=60), (
        f"pack still {BoardPack.objects.get(pk=pack.pk).status} after 60 s"
    )
    pack.refresh_from_db()
    assert pack.status == BoardPack.Status.READY and pack.progress == 100
    assert pack.built_at is not None and pack.failure == ""

    pdf_url = reverse("reports:board_pack_pdf", args=[trust_a.ods_code, pack.pk])
    assert f'href="{pdf_url}"' in client.get(progress_url).content.decode()
    pdf = client.get(pdf_url)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = " ".join(text.split())
    assert trust_a.name in text
    assert f"{month:%B %Y}" in text  # e.g. "November 2026", as the pack writes it
    assert "Measures to look at" in text and "All measures" in text
    charts = text.split("Measures to look at")[1].split("All measures")[0]
    assert better.name in charts and worse.name in charts
    assert steady.name not in charts  # common cause: in the matrix only
    assert steady.name in text.split("All measures")[1]
