"""Issue 15.5 in a browser: the project list offers its filtered rows as CSV and Excel, the
link downloads the file with the page's own sign-in, and the page stays accessible."""

import csv
import io

import pytest

from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_project_list_downloads_what_it_shows(page, live_server, alice, trust_a,
                                                  console_errors):
    ProjectFactory(trust=trust_a, lead=alice, title="=Reducing falls", status="active")
    ProjectFactory(trust=trust_a, lead=alice, title="Sepsis screening", status="completed")
    _sign_in(page.context, live_server, alice)
    page.goto(f"{live_server.url}/projects/?status=active")
    link = page.get_by_role("link", name="CSV", exact=True)
    assert "status=active" in link.get_attribute("href")
    assert serious_axe_violations(page) == []
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "projects.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(io.StringIO(fh.read())))
    assert [r[1] for r in rows[1:]] == ["'=Reducing falls"]
    assert console_errors == []
