"""Issue 9.5 in the browser: a P chart whose shift stays inside the limits shows the run."""

import pytest

from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import ProjectFactory
from tests.measures.test_run_signals import run_measure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_measure_page_draws_and_reads_the_run(browser, live_server, alice, trust_a):
    project = ProjectFactory(trust=trust_a, lead=alice, created_by=alice)
    measure = run_measure(project)
    context = browser.new_context()
    _sign_in(context, live_server, alice)
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/projects/{project.pk}/measures/{measure.pk}/")
    page.locator(".app-chart .main-svg").first.wait_for()
    assert page.get_by_text("Non-random run (shift or few crossings)").count() >= 1  # legend
    assert page.get_by_text("Non-random variation").count() >= 1  # the reading
    assert errors == []
    context.close()
