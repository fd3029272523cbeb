"""The trust dashboard's measures matrix: one page of rows, counts from one aggregate, sorted
and filtered by plain GET parameters, the same queries for a small and a large trust."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from measures.models import MeasureSnapshot
from reports import tasks
from tests.factories import MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db

RECENT = timezone.localdate().replace(day=1)


def _trust_with(trust, n_projects, *, concern_every=4):
    """n projects, 3 measures each, with stored snapshots (no chart JSON needed)."""
    snaps = []
    for i in range(n_projects):
        project = ProjectFactory(trust=trust, visibility="trust", title=f"Project {i:03d}")
        for k in range(3):
            measure = MeasureFactory(project=project, name=f"Measure {i:03d}-{k}", position=k)
            concern = (i * 3 + k) % concern_every == 0
            snaps.append(MeasureSnapshot(
                measure=measure, n_points=20, result={},
                variation_icon="concern_high" if concern else "common_cause",
                runs_signal=k == 1, assurance="",
                latest_period=RECENT if concern else dt.date(2024, 1, 1)))
    MeasureSnapshot.objects.bulk_create(snaps)
    return snaps


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _main(html: str) -> str:
    """The page's main content (the header's sign-out form carries a fresh CSRF token)."""
    return html[html.index("<main"):html.index("</main>")]


def _rows(html: str) -> list[str]:
    return re.findall(r">(Measure \d{3}-\d)</a>", html)


@pytest.mark.parametrize("n_projects", [5, 500])
def test_the_same_queries_for_a_small_and_a_large_trust(
    client, bob, trust_a, n_projects, django_assert_max_num_queries
):
    _trust_with(trust_a, n_projects)
    tasks.reconcile_rollups()  # the roll-ups the writes above asked for, as a worker would
    _sign_in(client, bob)
    url = reverse("reports:trust", args=[trust_a.ods_code])
    # Built: session, user, the roll-up mark, trust, memberships, the reader's scope, units,
    # projects per unit, counts, stale, PDSA quality, three "what changed" counts, the
    # matrix aggregate, one page of rows and the roll-ups.
    with django_assert_max_num_queries(17):
        html = client.get(url).content.decode()
    assert len(_rows(html)) == min(25, 3 * n_projects)
    total = 3 * n_projects
    assert f"of {total} measure" in html
    # Kept (reports.dashboard_cache): session, user, the mark, trust, memberships, scope.
    with django_assert_max_num_queries(6):
        again = client.get(url).content.decode()
    assert _main(again) == _main(html)


def test_pages_sort_and_filter_without_javascript(client, bob, trust_a):
    snaps = _trust_with(trust_a, 20, concern_every=2)  # 60 measures, 30 of concern
    _sign_in(client, bob)
    url = reverse("reports:trust", args=[trust_a.ods_code])
    first = _rows(client.get(url).content.decode())
    third = client.get(url, {"page": 3}).content.decode()
    assert first[0] == "Measure 000-0" and len(_rows(third)) == 10
    assert "Page 2 of 3" in third  # the link back
    concern = [s.measure.name for s in snaps if s.variation_icon == "concern_high"]
    shown = client.get(url, {"show": "concern", "sort": "measure"}).content.decode()
    assert _rows(shown) == sorted(concern)[:25]
    assert f"of {len(concern)} measures" in shown
    # the next page keeps the filter and the sort
    assert "show=concern&amp;sort=measure&amp;page=2" in shown
    runs = client.get(url, {"show": "runs"}).content.decode()
    assert set(_rows(runs)) == {s.measure.name for s in snaps if s.runs_signal}
    assert _rows(client.get(url, {"show": "nonsense", "sort": "nonsense"}).content.decode()
                 ) == first  # unknown values fall back to all, by project


def test_what_changed_counts_new_signals_and_links_to_them(client, bob, trust_a):
    snaps = _trust_with(trust_a, 4)
    recent = [s for s in snaps if s.latest_period == RECENT]
    _sign_in(client, bob)
    url = reverse("reports:trust", args=[trust_a.ods_code])
    html = client.get(url).content.decode()
    assert f"{len(recent)} measures with a special cause signal in the latest month" in html
    assert 'href="?show=new#measures"' in html
    assert sorted(_rows(client.get(url, {"show": "new"}).content.decode())) == sorted(
        s.measure.name for s in recent)


def test_the_matrix_never_shows_projects_the_reader_may_not_see(client, alice, trust_a):
    _trust_with(trust_a, 2)
    hidden = ProjectFactory(trust=trust_a, visibility="team", title="Private project")
    MeasureSnapshot.objects.create(measure=MeasureFactory(project=hidden, name="Measure 999-9"),
                                   variation_icon="concern_high", latest_period=RECENT)
    html = _sign_in(client, alice).get(reverse("reports:trust", args=[trust_a.ods_code]),
                                       {"show": "concern"}).content.decode()
    assert "Measure 999-9" not in html and "Private project" not in html


def test_the_matrix_downloads_as_csv_and_excel_with_the_filter(client, bob, trust_a):
    import csv
    import io

    from openpyxl import load_workbook

    snaps = _trust_with(trust_a, 12)  # 36 measures: more than one page
    first = snaps[0].measure
    first.name = "=HYPERLINK(\"http://evil.example\")"
    first.save()
    _sign_in(client, bob)
    page = client.get(reverse("reports:trust", args=[trust_a.ods_code]), {"show": "concern"})
    assert f'/trusts/{trust_a.ods_code}/measures.csv?show=concern' in page.content.decode()
    response = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Trust", "Project", "Unit", "Measure"]
    assert len(rows) == 1 + 36  # every row, not one page
    assert "'=HYPERLINK" in {r[3][:11] for r in rows[1:]}  # neutralised
    concern = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "xlsx"]),
                         {"show": "concern"})
    sheet = load_workbook(io.BytesIO(concern.content)).active
    names = [row[3] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(names) == sorted("'" + s.measure.name if s.measure.name.startswith("=")
                                   else s.measure.name
                                   for s in snaps if s.variation_icon == "concern_high")
    assert all(not str(n).startswith("=") for n in names)
    assert client.get(f"/trusts/{trust_a.ods_code}/measures.pdf").status_code == 404


def test_the_download_follows_the_same_access_rules(client, alice, charlie, trust_a):
    _trust_with(trust_a, 1)
    hidden = ProjectFactory(trust=trust_a, visibility="team", title="Private project")
    MeasureSnapshot.objects.create(measure=MeasureFactory(project=hidden, name="Secret"),
                                   variation_icon="concern_high", latest_period=RECENT)
    url = reverse("reports:measures_export", args=[trust_a.ods_code, "csv"])
    assert _sign_in(client, charlie).get(url).status_code == 404  # another trust
    text = _sign_in(client, alice).get(url).content.decode("utf-8-sig")
    assert "Secret" not in text and "Private project" not in text


def test_the_matrix_shows_each_measures_latest_value_as_the_chart_plots_it(client, bob,
                                                                          trust_a):
    """The refresh stores the last plotted value: a P chart's proportion is shown as a
    percentage, other charts with the measure's unit; the download holds the number."""
    import csv
    import io

    from measures.snapshots import measures_refresh_batch
    from tests.factories import DataPointFactory

    project = ProjectFactory(trust=trust_a, visibility="trust", title="Falls project")
    falls = MeasureFactory(project=project, name="Falls rate", unit_label="per 1,000 bed days")
    share = MeasureFactory(project=project, name="Checklist done", chart="p",
                           direction="increase")
    for i in range(12):
        DataPointFactory(measure=falls, period=dt.date(2025, i + 1, 1), value=5 + i % 3)
        DataPointFactory(measure=share, period=dt.date(2025, i + 1, 1), value=None,
                         numerator=30 + i, denominator=60)
    DataPointFactory(measure=falls, period=dt.date(2026, 1, 1), value=4.25)
    assert measures_refresh_batch([falls.pk, share.pk]) == 2
    assert MeasureSnapshot.objects.get(measure=falls).latest_value == 4.25
    assert MeasureSnapshot.objects.get(measure=share).latest_value == pytest.approx(41 / 60)
    _sign_in(client, bob)
    html = client.get(reverse("reports:trust", args=[trust_a.ods_code])).content.decode()
    assert "Latest value" in html
    assert "4.25 per 1,000 bed days" in html
    assert "68.3%" in html  # 41/60
    text = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "csv"])
                      ).content.decode("utf-8-sig")
    rows = {r[3]: r for r in csv.reader(io.StringIO(text))}
    header = rows["Measure"]
    value, unit = header.index("Latest value"), header.index("Value unit")
    assert (rows["Falls rate"][value], rows["Falls rate"][unit]) == ("4.25", "per 1,000 bed days")
    assert (rows["Checklist done"][value], rows["Checklist done"][unit]) == ("68.333", "%")
