"""Issue 14, item 4: a trust user searches the learning repository, sees the shared item
from another trust first with the match highlighted, filters, and the page is axe-clean."""

import pytest

from pdsa.models import Cycle
from projects.models import Project
from reports import learning
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import ChangeIdeaFactory, ProjectFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_search_the_repository_and_see_the_highlight(page, live_server, alice, trust_b,
                                                     console_errors):
    shared = ProjectFactory(trust=trust_b, title="Discharge before noon on the AMU",
                            aim="Discharge 33% of patients before noon by June.",
                            sharing=Project.Sharing.LEARNING,
                            visibility=Project.Visibility.EVERYONE)
    idea = ChangeIdeaFactory(project=shared, text="Board round huddle at 08:30")
    Cycle.objects.create(change_idea=idea, number=1, objective="Try the huddle",
                         results="Discharges before noon rose from 12% to 21%.",
                         decision="adopt", created_by=shared.lead)
    ProjectFactory(trust=trust_b, title="Discharge lounge audit", aim="Unshared.",
                   sharing=Project.Sharing.NOTHING)
    learning.rebuild_all()

    _sign_in(page.context, live_server, alice)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Learning", exact=True).click()
    page.get_by_label("Search shared learning").fill("discharge before noon")
    page.get_by_role("button", name="Search").click()

    results = page.locator(".app-learning-results > li")
    first = results.first
    assert "Discharge before noon on the AMU" in first.inner_text()
    assert first.locator("mark").first.inner_text().lower() in {"discharge", "noon"}
    assert "Discharge lounge audit" not in page.content()
    first.get_by_role("link", name="Discharge before noon on the AMU").wait_for()
    assert serious_axe_violations(page) == []

    # Filters work without JavaScript-only controls: a GET form with checkboxes.
    page.get_by_text("Filter the results").click()
    page.get_by_label("Adopt").check()
    page.get_by_role("button", name="Search").click()
    assert "decision=adopt" in page.url
    kinds = page.locator(".app-learning-results .nhsuk-tag").all_inner_texts()
    assert kinds == ["PDSA cycle"]
    assert serious_axe_violations(page) == []
    assert console_errors == []
