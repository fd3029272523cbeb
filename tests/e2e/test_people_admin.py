"""Issue 9.7: a trust administrator manages people and units in the browser: invites a
person with a role, grants another, revokes one, adds a unit and moves one, and reads the
audit trail. With JavaScript, at 360 px wide, and without JavaScript."""

import re

import pytest

from organisations.models import AuditEvent, Unit, User
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _journey(page, live_server, *, check=lambda page: None):
    page.goto(f"{live_server.url}/trusts/RAA/")
    page.get_by_role("link", name="Manage people").click()
    page.wait_for_url("**/trusts/RAA/people/")
    check(page)

    # Invite a person with one role.
    page.get_by_role("button", name="Invite a person").click()
    page.get_by_label("Email address").fill("ada@example.nhs.uk")
    page.get_by_label("Full name").fill("Dr Ada Lovelace")
    page.get_by_label("Job title (optional)").fill("Consultant")
    page.get_by_label("Clinician / project member").check()
    check(page)
    page.get_by_role("button", name="Send invitation").click()
    page.get_by_text("Dr Ada Lovelace has been invited as Clinician / project member").wait_for()

    # Grant another role.
    page.get_by_label("QI lead or coach").check()
    page.get_by_role("button", name="Grant role").click()
    page.get_by_text("Dr Ada Lovelace is now a QI lead or coach").wait_for()
    check(page)

    # Revoke one, after the confirmation page.
    page.get_by_role("link", name="Revoke Clinician / project member").click()
    page.get_by_role("heading", name=re.compile("^Revoke Clinician")).wait_for()
    page.get_by_role("button", name="Yes, revoke this role").click()
    page.get_by_text("Revoked Clinician / project member from Dr Ada Lovelace.").wait_for()

    # Add a unit, then move the ward under it.
    page.goto(f"{live_server.url}/trusts/RAA/units/")
    check(page)
    page.get_by_role("button", name="Add a unit", exact=True).click()
    page.get_by_label("Name").fill("Surgery")
    page.get_by_label("Type").select_option(label="Division")
    page.get_by_label("Sits under").select_option(label="None: at the top of the trust")
    check(page)
    page.get_by_role("button", name="Add unit").click()
    page.get_by_text("Added Surgery.").wait_for()
    page.get_by_role("link", name="Move Ward 7", exact=True).click()
    page.get_by_label("Move it under").select_option(label="Surgery")
    page.get_by_role("button", name="Move unit").click()
    page.get_by_text("Moved Ward 7 to Surgery.").wait_for()

    # The audit trail shows every change.
    page.get_by_role("link", name="audit trail").click()
    page.get_by_role("heading", name="Audit trail").wait_for()
    check(page)
    text = page.locator("main").inner_text()
    for entry in ("Invited Dr Ada Lovelace (ada@example.nhs.uk) as Clinician / project member",
                  "Granted QI lead or coach to Dr Ada Lovelace",
                  "Revoked Clinician / project member from Dr Ada Lovelace",
                  "Added division Surgery at the top of the trust",
                  "Moved Ward 7 from Medicine to Surgery"):
        assert entry in text


def _saved():
    ada = User.objects.get(email="ada@example.nhs.uk")
    assert list(ada.memberships.values_list("role", flat=True)) == ["qi_lead"]
    ward = Unit.objects.get(name="Ward 7")
    assert ward.parent.name == "Surgery"
    assert AuditEvent.objects.count() == 5


def test_trust_admin_manages_people_and_units_with_javascript(
    page, live_server, tara, ward_a, console_errors, mailoutbox
):
    _sign_in(page.context, live_server, tara)
    violations = []
    _journey(page, live_server, check=lambda p: violations.extend(serious_axe_violations(p)))
    assert violations == []
    assert console_errors == []
    _saved()
    assert [m.to for m in mailoutbox] == [["ada@example.nhs.uk"]]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_journey_fits_a_360px_phone(browser, live_server, tara, ward_a, javascript):
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 360, "height": 800})
    _sign_in(context, live_server, tara)
    page = context.new_page()
    too_wide = []
    _journey(page, live_server, check=lambda p: too_wide.append(p.url) if not _fits(p) else None)
    assert too_wide == []
    _saved()
    context.close()
