"""Issue 20 item 6: the monthly team report opens on the last month that has ended, not on
the month still going (whose data is not in yet)."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_report_defaults_to_the_last_finished_month(client, world, alice):
    c, team = world["c"], world["team_a"]
    today = timezone.localdate()
    if c.start_date >= today.replace(day=1):
        pytest.skip("the collaborative has no finished month yet")
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("collaboratives:report", args=[c.pk, team.pk])).content.decode()
    selected = re.search(r'<option value="(\d{4}-\d{2})" selected', html).group(1)
    last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    assert selected == last_month
