"""A person signs in in a real browser and lands on their place, with no console errors and
no serious accessibility violations."""

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import serious_axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_clinician_signs_in_and_lands_on_my_projects(page, live_server, alice, console_errors):
    page.goto(live_server.url + "/")
    assert serious_axe_violations(page) == []
    _sign_in(page, live_server, alice)
    page.wait_for_url("**/projects/?mine=1")
    assert page.get_by_role("heading", level=1).inner_text() == "My projects"
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert serious_axe_violations(page) == []
    assert console_errors == []


def test_board_member_lands_on_the_trust_page(page, live_server, bob, ward_a, console_errors):
    _sign_in(page, live_server, bob)
    page.wait_for_url("**/trusts/RAA/")
    assert "Northgate" in page.get_by_role("heading", level=1).inner_text()
    assert page.get_by_role("link", name="Ward 7").is_visible()
    assert serious_axe_violations(page) == []
    assert console_errors == []


def test_wrong_password_shows_the_error_summary(page, live_server, alice, console_errors):
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("Email address").fill(alice.email)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    assert serious_axe_violations(page) == []
    assert console_errors == []


def test_pages_fit_a_360px_phone(browser, live_server, alice):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    _sign_in(page, live_server, alice)
    page.wait_for_url("**/projects/?mine=1")
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert overflow is False
    context.close()
