"""/api/docs/ (Swagger UI) renders from the portal alone, with every other host blocked, has
a page language, and passes axe like every other page."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import serious_axe_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_api_docs_work_offline_and_pass_axe(page, live_server, console_errors):
    portal = urlsplit(live_server.url).netloc
    elsewhere = []

    def only_the_portal(route):
        if urlsplit(route.request.url).netloc == portal:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_portal)
    page.goto(f"{live_server.url}/api/docs/")
    page.get_by_text("QI Portal API").first.wait_for()
    page.locator(".opblock").first.wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator(".opblock").count() > 20  # the operations, from /api/schema/
    assert elsewhere == []
    assert serious_axe_violations(page) == []
    assert console_errors == []
