"""Issue 3: a clinician registers a project, builds its driver diagram, adds a measure,
uploads two years of monthly data from a file like the template, and sees the chart."""

import re
from datetime import date

import pytest

from measures.models import DataPoint
from tests.conftest import PASSWORD
from tests.e2e.conftest import serious_axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _sign_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/sign-in/")
    page.get_by_label("Email address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/projects/?mine=1")


def test_register_build_measure_upload_and_see_chart(
    page, live_server, alice, ward_a, tmp_path, console_errors
):
    _sign_in(page, live_server, alice)

    # Register the project.
    page.goto(f"{live_server.url}/projects/new/")
    page.get_by_label("Project title").fill("Fewer falls at night on Ward 7")
    page.get_by_label("SMART aim").fill(
        "Reduce falls on Ward 7 from 8 to 5 per 1,000 bed days by March 2027"
    )
    page.get_by_role("button", name="Register project").click()
    page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Fewer falls at night on Ward 7"
    project_url = page.url
    assert serious_axe_violations(page) == []

    # Build the driver diagram.
    page.get_by_role("link", name="Build the driver diagram").click()
    page.locator("#add-primary").get_by_label("Driver").fill("Reliable falls risk assessment")
    page.get_by_role("button", name="Add primary driver").click()
    page.locator("#add-secondary").get_by_label("Secondary driver").fill(
        "Risk reviewed at every handover"
    )
    page.get_by_role("button", name="Add secondary driver").click()
    page.locator("#add-idea").get_by_label("Change idea").fill("Falls safety huddle")
    page.locator("#add-idea").get_by_label(re.compile("Risk reviewed at every handover")).check()
    page.get_by_role("button", name="Add change idea").click()
    assert page.get_by_text("Falls safety huddle").count() >= 1
    assert serious_axe_violations(page) == []

    # Add a measure.
    page.goto(project_url)
    page.get_by_role("link", name="Add a measure").click()
    page.get_by_label("Measure name").fill("Falls per 1,000 bed days")
    page.get_by_label("Outcome").check()
    page.get_by_label("Operational definition").fill("Falls from Datix / occupied bed days")
    page.get_by_label("Frequency").select_option("monthly")
    page.get_by_label(re.compile("^XmR")).check()
    page.get_by_label("Lower is better").check()
    page.get_by_role("button", name=re.compile("Save|Add")).last.click()
    page.wait_for_url(re.compile(r".*/measures/\d+/$"))
    page.goto(project_url)  # the project page now shows the diagram and the measure
    assert serious_axe_violations(page) == []
    page.get_by_role("link", name="Falls per 1,000 bed days").first.click()

    # Upload two years of monthly data in the template's columns.
    rows = ["period,value,annotation,rebaseline"]
    for i in range(24):
        value = 8 + (i % 3) * 0.5 if i < 12 else 5 + (i % 3) * 0.4
        note = "Falls huddle started" if i == 12 else ""
        rows.append(f"{date(2024 + i // 12, i % 12 + 1, 1).isoformat()},{value},{note},")
    upload = tmp_path / "falls.csv"
    upload.write_text("\n".join(rows) + "\n")
    page.get_by_role("link", name=re.compile("Upload")).first.click()
    page.get_by_label("Upload a file").set_input_files(str(upload))
    page.get_by_role("button", name="Upload data").click()
    page.wait_for_url(re.compile(r".*/measures/\d+/$"))

    # The chart is drawn by Plotly, with the reading and the icons.
    page.locator(".app-chart .main-svg").first.wait_for()
    assert "special cause" in page.content().lower()

    assert DataPoint.objects.filter(measure__name="Falls per 1,000 bed days").count() == 24
    assert serious_axe_violations(page) == []
    assert console_errors == []
