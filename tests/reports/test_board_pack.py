"""Board packs (issue 12): asked for on a page, built by Celery (eager here), printable and
a PDF whose text names the trust, the month and every measure with a special cause."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from measures import snapshots
from reports.models import BoardPack
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db

SHIFT = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 5, 4, 5, 6, 4, 5, 4, 5]  # a shift down
STEADY = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 10, 11, 10, 9, 11, 10, 9, 10]


def _measure(project, name, values):
    measure = MeasureFactory(project=project, name=name, chart="xmr", direction="decrease")
    for i, v in enumerate(values):
        DataPointFactory(measure=measure, period=dt.date(2024 + i // 12, i % 12 + 1, 1),
                         value=v)
    snapshots.measure_refresh(measure_id=measure.pk)
    return measure


@pytest.fixture
def measures(trust_a, alice):
    project = ProjectFactory(trust=trust_a, lead=alice, visibility="trust",
                             title="Fewer falls on Ward 7")
    return (_measure(project, "Falls per 1,000 bed days", SHIFT),
            _measure(project, "Falls with harm", STEADY))


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _month():
    return timezone.localdate().replace(day=1)


def test_a_board_member_gets_a_pdf_naming_the_trust_month_and_special_causes(
    client, bob, trust_a, measures, django_capture_on_commit_callbacks
):
    spike, steady = measures
    _sign_in(client, bob)
    url = reverse("reports:board_packs", args=[trust_a.ods_code])
    assert "Board packs" in client.get(reverse("reports:trust", args=[trust_a.ods_code])
                                       ).content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the build runs on commit
        response = client.post(url, {"month": _month().isoformat(), "unit": ""})
    pack = BoardPack.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{pack.pk}/")
    page = client.get(response.url).content.decode()
    assert "Download the PDF" in page
    pack.refresh_from_db()
    assert pack.status == "ready", pack.failure
    pdf = client.get(reverse("reports:board_pack_pdf", args=[trust_a.ods_code, pack.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = " ".join(text.split())
    assert trust_a.name in text and f"{_month():%B %Y}" in text
    assert "Measures to look at" in text
    charts = text.split("Measures to look at")[1].split("All measures")[0]
    assert spike.name in charts and steady.name not in charts  # only what needs looking at
    printable = client.get(reverse("reports:board_pack_print",
                                   args=[trust_a.ods_code, pack.pk])).content.decode()
    assert '<svg' in printable and "@page" in printable


def test_while_it_builds_the_page_refreshes_itself_and_shows_progress(client, bob, trust_a):
    pack = BoardPack.objects.create(trust=trust_a, month=_month(), requested_by=bob,
                                    status="building", progress=40)
    html = _sign_in(client, bob).get(
        reverse("reports:board_pack", args=[trust_a.ods_code, pack.pk])).content.decode()
    assert 'http-equiv="refresh"' in html and "40% done" in html
    # not ready: the PDF link goes back to the progress page
    pdf = client.get(reverse("reports:board_pack_pdf", args=[trust_a.ods_code, pack.pk]))
    assert pdf.status_code == 302


def test_asking_twice_while_waiting_makes_one_pack(bob, trust_a):
    from reports import services

    first = services.board_pack_request(trust=trust_a, month=_month(), by=bob)
    second = services.board_pack_request(trust=trust_a, month=_month(), by=bob)
    assert first == second and BoardPack.objects.count() == 1


def test_a_month_in_the_future_or_another_trusts_unit_is_refused(client, bob, trust_a,
                                                                  trust_b):
    from tests.factories import UnitFactory

    other = UnitFactory(trust=trust_b, name="Their ward", kind="ward")
    url = reverse("reports:board_packs", args=[trust_a.ods_code])
    _sign_in(client, bob)
    future = (_month() + dt.timedelta(days=40)).replace(day=1)
    response = client.post(url, {"month": future.isoformat()})
    assert response.status_code == 200 and "nhsuk-error-summary" in response.content.decode()
    response = client.post(url, {"month": _month().isoformat(), "unit": other.pk})
    assert response.status_code == 200 and "nhsuk-error-summary" in response.content.decode()
    assert not BoardPack.objects.exists()


def test_access_packs_belong_to_who_asked_and_outsiders_get_404(
    client, bob, alice, charlie, trust_a, measures
):
    pack = BoardPack.objects.create(trust=trust_a, month=_month(), requested_by=bob)
    urls = [reverse(name, args=[trust_a.ods_code, pack.pk]) for name in
            ("reports:board_pack", "reports:board_pack_print", "reports:board_pack_pdf")]
    for url in urls:  # a colleague at the same trust: not theirs (its content is Bob's view)
        assert _sign_in(client, alice).get(url).status_code == 404
    packs = reverse("reports:board_packs", args=[trust_a.ods_code])
    assert _sign_in(client, alice).get(packs).status_code == 200
    assert _sign_in(client, charlie).get(packs).status_code == 404  # another trust
    assert client.post(packs, {"month": _month().isoformat()}).status_code == 404
    for url in urls:
        assert client.get(url).status_code == 404
    client.logout()
    assert client.get(packs).status_code == 302  # to sign in


def test_the_pack_shows_only_what_the_asker_may_see(client, bob, trust_a, measures,
                                                    django_capture_on_commit_callbacks):
    hidden = ProjectFactory(trust=trust_a, visibility="team", title="Private project")
    _measure(hidden, "Secret measure", SHIFT)
    with django_capture_on_commit_callbacks(execute=True):
        _sign_in(client, bob).post(reverse("reports:board_packs", args=[trust_a.ods_code]),
                                   {"month": _month().isoformat()})
    pack = BoardPack.objects.get()
    assert pack.status == "ready"
    assert "Secret measure" not in pack.html and "Private project" not in pack.html


def test_building_a_pdf_puts_no_font_debugging_in_the_log(caplog):
    """WeasyPrint sets fontTools to DEBUG while it subsets fonts; those records must not
    reach the worker's log (they were ~300 lines a pack)."""
    import logging

    from reports.board_pack import build_pdf

    with caplog.at_level(logging.DEBUG):
        pdf = build_pdf("<p>Falls per 1,000 bed days: 6.27</p>")
    assert pdf.startswith(b"%PDF")
    assert [r for r in caplog.records if r.name.startswith("fontTools")] == []
