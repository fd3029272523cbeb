"""Issue 9 item 3: a new user reads a project's whole history in the browser — from the
project page, filtered to one kind of change, a page at a time — with and without
JavaScript."""

import re

import pytest

from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.reports.test_history import build

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_history_from_the_project_page_filtered_and_paged(
    browser, live_server, alice, bob, quentin, trust_a, javascript
):
    project = build(alice, bob, quentin, trust_a, points=40)  # 81 data changes: two pages
    context = browser.new_context(java_script_enabled=javascript)
    _sign_in(context, live_server, alice)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}{project.get_absolute_url()}")
    page.get_by_role("link", name="See every change to this project").click()
    page.get_by_role("heading", name="History of changes").wait_for()
    headings = page.locator("ol.app-history h2").all_inner_texts()
    assert headings[0] == "Status changed"
    assert "PDSA cycle: Cycle 1 of ‘Falls huddle’ changed" in headings
    assert "Data: Falls per 1,000 bed days, 1 January 2024 changed" in headings
    assert len(headings) == 50 and "Charter registered" not in headings  # on a later page
    if javascript:  # axe runs as a script in the page
        assert serious_axe_violations(page) == []

    page.get_by_text("Filter by kind of change").click()
    page.get_by_label("Data").check()
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*kind=data.*"))
    headings = page.locator("ol.app-history h2").all_inner_texts()
    assert len(headings) == 50 and all(h.startswith("Data: ") for h in headings)
    assert page.get_by_label("Data").is_checked()

    page.get_by_role("link", name=re.compile("Older changes")).click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert "kind=data" in page.url
    headings = page.locator("ol.app-history h2").all_inner_texts()
    assert len(headings) == 31 and all(h.startswith("Data: ") for h in headings)
    assert headings[-1] == "Data: Falls per 1,000 bed days, 1 January 2024 added"
    assert page.get_by_role("link", name=re.compile("Newer changes")).count() == 1
    assert errors == []
    context.close()
