"""Issue 20 item 3: after seed_demo the board sees two years of shape, not one month: the
12-month trends have values in most months, "what changed" lists real changes (not every
score ever recorded), and the board pack has a measure with a special cause."""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from organisations.models import Trust
from pdsa.models import Cycle
from projects.models import ProgressScore, Project
from reports import board_pack, rollups, selectors
from reports.models import BoardPack, Rollup

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=io.StringIO())
    return Trust.objects.get(ods_code="ZNT")


def test_twelve_month_trends_have_shape(demo):
    months = rollups.last_months(12)
    rows = {r.month: r for r in Rollup.objects.filter(trust=demo, unit=None,
                                                      month__in=months)}
    assert all(rows.get(m) and rows[m].built_at for m in months)
    active = [rows[m].projects_active for m in months]
    cycles = [rows[m].cycles_logged for m in months]
    assert sum(1 for n in active if n) >= 9, active
    assert sum(1 for n in cycles if n) >= 4, cycles
    assert len(set(active)) > 1  # it changed over the year


def test_nothing_is_dated_in_the_future_and_what_changed_is_recent(demo):
    now = timezone.now()
    assert not Project.objects.filter(created_at__gt=now).exists()
    assert not Cycle.objects.filter(created_at__gt=now).exists()
    assert not ProgressScore.objects.filter(recorded_at__gt=now).exists()
    visible = Project.objects.filter(trust=demo)
    changed = selectors.changed_since(visible)
    all_scores = ProgressScore.objects.filter(project__trust=demo).count()
    assert 0 < changed["scores"] < all_scores  # recent ones only, not the whole history
    now_row = Rollup.objects.get(trust=demo, unit=None,
                                 month=rollups.month_of(timezone.localdate()))
    changes = now_row.changes
    assert any(changes.get(f"{k}_count") for k in ("new_special_cause", "moved_up",
                                                   "moved_down", "gone_stale"))


def test_the_board_pack_has_a_special_cause_measure(demo):
    from organisations.models import Membership

    reader = Membership.objects.filter(trust=demo).first().user
    pack = BoardPack.objects.create(trust=demo, month=timezone.localdate().replace(day=1),
                                    requested_by=reader)
    html = board_pack.build_html(pack)
    assert "No measure shows a special cause or a target at risk." not in html
    assert re.search(r"<td>Special cause[^<]*</td>", html), "no special-cause row"
