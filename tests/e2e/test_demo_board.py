"""Issue 20 item 3: after the demo is loaded, a board member reads, in the browser, a
12-month trend with a value in most months, what changed in the last 30 days, and a board
pack whose measures include a special cause."""

import io
import re

import pytest
from django.core.management import call_command

from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_demo_board_reads_trends_changes_and_a_special_cause(page, live_server,
                                                                  console_errors):
    from organisations.models import User

    call_command("seed_demo", stdout=io.StringIO())
    missing = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    board = User.objects.get(email="board@example.nhs.uk")
    _sign_in(page.context, live_server, board)
    page.goto(f"{live_server.url}/trusts/ZNT/")

    # The trend's own table, opened as a keyboard or screen-reader user would.
    summary = page.get_by_text("Projects in progress as a table")
    summary.click()
    table = page.get_by_role("table", name=re.compile("Projects in progress by month"))
    values = [c.inner_text().strip() for c in
              table.locator("tbody tr td.nhsuk-table__cell--numeric").all()]
    assert len(values) == 12
    recorded = [v for v in values if v not in ("Not recorded", "0")]
    assert len(recorded) >= 9, values

    changed = page.get_by_role("heading", name=re.compile(r"What changed in the last"))
    assert changed.is_visible()
    assert re.search(r"[1-9]\d* progress scores? recorded", page.content())
    assert serious_axe_violations(page) == []

    # The board pack: asked for, built in the background, read on its printable page.
    page.goto(f"{live_server.url}/trusts/ZNT/board-packs/")
    page.get_by_role("button", name="Build the board pack").click()
    link = page.get_by_role("link", name="Open the printable page")
    for _ in range(30):
        if link.count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    link.click()
    text = page.inner_text("body")
    assert "No measure shows a special cause or a target at risk." not in text
    assert "Special cause variation" in text
    assert console_errors == [], missing
