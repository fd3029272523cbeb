"""A measure with a target and too few points for trusted limits is too early to read, not
"No target": the same words in the trust matrix, its CSV download and the board pack
(reports.selectors.assurance_text, the one place). Issue 20 item 5."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from measures import snapshots
from reports import board_pack
from reports.models import BoardPack
from tests.factories import DataPointFactory, MeasureFactory, ProjectFactory

pytestmark = pytest.mark.django_db

STEADY = [10, 11, 9, 10, 12, 10, 11, 9, 10, 11, 10, 12, 11, 10, 9, 10, 11, 10, 12, 10]
TOO_EARLY = "Target set; too few points yet to say whether it is met"


def _measure(project, name, values, target):
    measure = MeasureFactory(project=project, name=name, chart="xmr", direction="decrease",
                             target=target)
    for i, v in enumerate(values):
        DataPointFactory(measure=measure, period=dt.date(2024 + i // 12, i % 12 + 1, 1), value=v)
    snapshots.measure_refresh(measure_id=measure.pk)
    return measure


@pytest.fixture
def project(trust_a, alice):
    return ProjectFactory(trust=trust_a, lead=alice, visibility="trust", title="Fewer falls")


def test_a_target_with_too_few_points_is_too_early_everywhere(client, bob, trust_a, project):
    early = _measure(project, "Falls with a target", [7, 8, 6], target=6)
    none = _measure(project, "Falls with no target", [7, 8, 6], target=None)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")

    page = client.get(reverse("reports:trust", args=[trust_a.ods_code])).content.decode()
    row_early = page.split(early.name, 1)[1].split("</tr>", 1)[0]
    row_none = page.split(none.name, 1)[1].split("</tr>", 1)[0]
    assert TOO_EARLY in row_early and "No target" not in row_early
    assert "No target" in row_none

    response = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    by_name = {r[3]: r for r in rows[1:]}
    assert TOO_EARLY in by_name[early.name] and "No target" not in by_name[early.name]
    assert "No target" in by_name[none.name]

    pack = BoardPack.objects.create(trust=trust_a, month=dt.date.today().replace(day=1),
                                    requested_by=bob)
    html = board_pack.build_html(pack)
    pack_early = html.split(early.name, 1)[1].split("</tr>", 1)[0]
    assert TOO_EARLY in pack_early
    assert "No target" in html.split(none.name, 1)[1].split("</tr>", 1)[0]


def test_enough_points_read_the_assurance_not_too_early(client, bob, trust_a, project):
    steady = _measure(project, "Steady falls", STEADY, target=20)
    client.force_login(bob, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("reports:measures_export", args=[trust_a.ods_code, "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    row = next(r for r in rows[1:] if r[3] == steady.name)
    assert any(cell.startswith("Assurance: the target") for cell in row), row
    assert TOO_EARLY not in row
