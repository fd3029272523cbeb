"""The trust dashboard's roll-up trends in a browser with JavaScript off: the SVG charts
draw, the tables behind them open from the keyboard."""

import pytest

from reports import rollups
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_trends_without_javascript(browser, live_server, bob, trust_a):
    for i in range(3):
        ProjectFactory(trust=trust_a, title=f"Project {i}")
    rollups.build(trust_a.pk, months=12)
    context = browser.new_context(java_script_enabled=False)
    _sign_in(context, live_server, bob)
    page = context.new_page()
    page.goto(f"{live_server.url}/trusts/{trust_a.ods_code}/")
    trend = page.locator("figure.app-trend").first
    assert trend.locator("svg rect").count() == 12
    assert trend.locator("svg").bounding_box()["height"] > 50
    assert page.get_by_text("Projects in progress: 3 this month").count() == 1
    summary = trend.locator("summary")
    summary.focus()
    page.keyboard.press("Enter")
    assert trend.get_by_role("cell", name="Not recorded").count() == 0
    assert trend.locator("table").is_visible()
    context.close()
