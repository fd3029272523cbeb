"""Issue 14, item 2 in a browser: a national analyst publishes a definition, a trust's QI lead
adopts it, and the trust user sees the comparison (funnel plot, outliers, deciles) with the
other trusts anonymised; with JavaScript and without, no serious accessibility violations."""

import pytest

from organisations.models import Membership
from reports import comparisons
from reports.models import NationalMeasure
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import MeasureFactory, MembershipFactory, ProjectFactory
from tests.reports.compare_world import MONTHS, points, trusts_with_data

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_analyst_publishes_and_qi_lead_adopts(browser, live_server, nadia, quentin, trust_a):
    project = ProjectFactory(trust=trust_a, title="Sepsis in ED")
    ours = MeasureFactory(project=project, chart="p", name="Our sepsis antibiotics")
    points(ours, [(m, 60, 100) for m in MONTHS])

    context = browser.new_context()
    _sign_in(context, live_server, nadia)
    page = context.new_page()
    page.goto(f"{live_server.url}/compare/definitions/")
    page.get_by_role("link", name="Publish a national definition").click()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("There is a problem").wait_for()
    assert serious_axe_violations(page) == []
    page.get_by_label("Name of the measure").fill("Sepsis antibiotics within 1 hour")
    page.get_by_label("Topic").fill("Sepsis")
    page.get_by_label("Operational definition").fill("Adults with red-flag sepsis given "
                                                      "antibiotics within an hour.")
    page.get_by_label("Numerator").fill("Given within an hour")
    page.get_by_label("Denominator").fill("Adults with red-flag sepsis")
    page.get_by_label("P chart (proportion)").check()
    page.get_by_label("Higher is better").check()
    page.get_by_role("button", name="Publish").click()
    page.get_by_text("National definition ‘Sepsis antibiotics within 1 hour’ published.") \
        .wait_for()
    nm = NationalMeasure.objects.get()
    context.close()

    context = browser.new_context()
    _sign_in(context, live_server, quentin)
    page = context.new_page()
    page.goto(f"{live_server.url}/compare/definitions/{nm.pk}/adopt/")
    assert serious_axe_violations(page) == []
    page.get_by_label("Link a measure we already collect").check()
    page.get_by_label("Your measure").select_option(label=f"Our sepsis antibiotics "
                                                          f"(Sepsis in ED, {trust_a.name})")
    page.get_by_role("button", name="Adopt").click()
    page.get_by_text("now follows the national definition").wait_for()
    assert nm.adoptions.get().measure == ours
    context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_trust_user_reads_the_comparison(browser, live_server, nadia, trust_a, javascript):
    alice = MembershipFactory(trust=trust_a, role=Membership.Role.CLINICIAN).user
    nm = NationalMeasure.objects.create(
        name="Sepsis antibiotics within 1 hour", topic="Sepsis", definition="Red-flag sepsis.",
        numerator="Within 1 hour", denominator="Red-flag sepsis", chart="p",
        direction="increase", published_by=nadia)
    rates = [0.6] * 11 + [0.98]
    made = trusts_with_data(nm, nadia, 12, first=trust_a,
                            rate=lambda i, k: rates[i] + (0.01 if (i + k) % 2 else -0.01))
    comparisons.build("national", nm.pk)
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 1000, "height": 900})
    errors = []
    _sign_in(context, live_server, alice)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server.url}/compare/")
    page.get_by_role("link", name="Sepsis antibiotics within 1 hour").click()
    page.get_by_role("heading", name="Sepsis antibiotics within 1 hour", level=1).wait_for()
    assert page.get_by_text("Built 0 minutes ago from 12 trusts").count() == 1
    code = comparisons.anonymous_codes("national", nm.pk, [t.pk for t, _ in made])
    high = code[made[-1][0].pk]
    page.get_by_text(f"{high}: 97 out of 100").first.wait_for()
    assert made[-1][0].name not in page.content()
    if javascript:
        page.locator("#funnel-chart .main-svg").first.wait_for()
        page.locator("#deciles-chart .main-svg").first.wait_for()
        assert not page.locator(".app-chart-static").first.is_visible()  # Plotly replaced it
    else:
        assert page.locator(".app-chart-static svg").count() == 2  # funnel and deciles
    # The picker works without JavaScript: a plain GET form.
    page.get_by_label("Period for the funnel plot").select_option(label="January 2026")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("heading", name="Funnel plot, January 2026").wait_for()
    page.get_by_role("table").first.wait_for()
    if javascript:  # axe runs in the page: only with JavaScript on
        assert serious_axe_violations(page) == []
    assert errors == []
    context.close()
