"""Issue 9, item 4: while a clinician types a title, the register shows projects like it
(htmx), and the issue's two examples are among them."""

import re

import pytest

from projects.models import Project
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("typed", "existing"),
    [
        ("Reduce falls on ward 8", "Reducing falls on Ward 7"),
        ("Sepsis antibiotics in ED",
         "Sepsis: antibiotics within one hour in the Emergency Department"),
    ],
)
def test_typing_a_title_shows_the_near_duplicate(
    page, live_server, alice, trust_a, typed, existing, console_errors
):
    ProjectFactory(trust=trust_a, title=existing)
    ProjectFactory(trust=trust_a, title="Pressure ulcers on Ward 7")
    _sign_in(page.context, live_server, alice)
    page.goto(f"{live_server.url}/projects/new/")
    page.get_by_label("Project title").press_sequentially(typed, delay=20)
    warning = page.locator("#similar-projects")
    warning.get_by_role("link", name=existing).wait_for()
    assert "A similar project is already registered" in warning.inner_text()
    assert "Pressure ulcers" not in warning.inner_text()
    assert serious_axe_violations(page) == []
    # Registering anyway asks for the confirmation, then saves.
    page.get_by_label("SMART aim").fill("To be agreed with the team by March 2027")
    page.get_by_role("button", name="Register project").click()
    page.get_by_label("Yes, this is a different project").check()
    page.get_by_role("button", name="Register project").click()
    page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    assert Project.objects.filter(title=typed).exists()
    assert console_errors == []
