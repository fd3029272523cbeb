"""Issue 11: a facilitator, as a new user would in a browser, sets up a collaborative with a
shared measure and two learning sessions, invites two trusts, approves their teams and sees
the teams' data and reports arrive on the dashboard. With JavaScript and without it, at
360 px wide."""

import datetime as dt
import re

import pytest

from collaboratives import services
from collaboratives.models import Collaborative
from measures import services as measure_services
from organisations.models import Membership
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import MembershipFactory, ProjectFactory, TrustFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def invited_trusts(trust_b):
    trust_c = TrustFactory(ods_code="RCC", name="Westfield Community Health")
    out = []
    for trust, title in ((trust_b, "Falls on Cedar Ward"), (trust_c, "Falls at home visits")):
        lead = MembershipFactory(trust=trust, role=Membership.Role.QI_LEAD).user
        clinician = MembershipFactory(trust=trust, role=Membership.Role.CLINICIAN).user
        project = ProjectFactory(trust=trust, lead=clinician, title=title)
        out.append({"trust": trust, "lead": lead, "clinician": clinician, "project": project})
    return out


def _set_up(page, base):
    page.goto(f"{base}/")
    # The menu offers it (at 360 px with JavaScript it sits under "More").
    menu = page.locator('a.nhsuk-header__navigation-link[href="/collaboratives/"]')
    assert menu.count() == 1
    page.goto(base + menu.get_attribute("href"))
    page.get_by_role("link", name="Start a collaborative").click()
    page.get_by_label("Name of the collaborative").fill("Falls prevention collaborative")
    page.get_by_label("Topic", exact=True).fill("Falls in older people")
    page.get_by_label("Aim", exact=True).fill("Reduce falls with harm by 25% by March 2027")
    page.get_by_label("Start date").fill("2025-11-01")
    page.get_by_label("End date").fill("2027-03-31")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Falls prevention collaborative").wait_for()

    for title, date, place in (("Learning session 1", "2025-11-12", "Northgate hall"),
                               ("Learning session 2", "2026-05-20", "")):
        page.get_by_role("link", name="Add a learning session").click()
        page.get_by_label("Name of the session").fill(title)
        page.get_by_label("Date", exact=True).fill(date)
        if place:
            page.get_by_label("Place (if not online)").fill(place)
        else:
            page.get_by_label("Held online").check()
        page.get_by_role("button", name="Save session").click()
        page.get_by_text(f"Learning session ‘{title}’ added.").wait_for()
    assert "Action period: 13 Nov 2025 to 19 May 2026" in page.content()

    page.get_by_role("link", name="Add a shared measure").click()
    page.get_by_label("Measure name").fill("Falls risk assessed within 6 hours")
    page.get_by_label("Process", exact=True).check()
    page.get_by_label("Operational definition").fill("Patients assessed within 6 hours")
    page.get_by_label("Numerator (P and U charts)").fill("Assessed within 6 hours")
    page.get_by_label("Denominator (P and U charts)").fill("Patients admitted")
    page.get_by_label("Chart", exact=True).select_option("p")
    page.get_by_label("Higher is better").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Shared measure ‘Falls risk assessed within 6 hours’ added.").wait_for()


def _invite(page, trust):
    name = trust.name
    page.get_by_role("link", name="Invite a trust").click()
    page.get_by_label("Trust to invite").select_option(label=str(trust))
    page.get_by_role("button", name="Invite").click()
    page.get_by_text(f"{name} invited.").wait_for()


def _teams_join(collaborative, invited):
    """What the invited trusts do on their side (their own pages are tested elsewhere)."""
    for t in invited:
        part = collaborative.participations.get(trust=t["trust"])
        services.invitation_accept(participation=part, by=t["lead"])
        services.enrolment_request(collaborative=collaborative, project=t["project"],
                                   by=t["lead"])


def _teams_report(collaborative, invited):
    sm = collaborative.shared_measures.get()
    for i, t in enumerate(invited):
        team = collaborative.enrolments.get(project=t["project"])
        adoption = services.shared_measure_adopt(shared_measure=sm, enrolment=team,
                                                 by=t["clinician"])
        rows = [{"period": dt.date(2025, 11 + m, 1) if m < 2 else dt.date(2026, m - 1, 1),
                 "numerator": 8 + i + m % 3, "denominator": 20} for m in range(12)]
        measure_services.data_points_merge(measure=adoption.measure, rows=rows,
                                           by=t["clinician"])
        services.team_report_submit(enrolment=team, month=dt.date(2025, 11, 1),
                                    by=t["clinician"], score="2.0", tested="Huddles")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_facilitator_sets_up_a_collaborative_and_sees_teams_arrive(
    browser, live_server, quentin, invited_trusts, javascript
):
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 360, "height": 800})
    errors = []
    _sign_in(context, live_server, quentin)
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = live_server.url
    _set_up(page, base)
    for t in invited_trusts:
        _invite(page, t["trust"])
    c = Collaborative.objects.get()
    assert sorted(c.participations.values_list("status", flat=True)) == ["invited", "invited"]

    _teams_join(c, invited_trusts)
    page.reload()
    for t in invited_trusts:
        page.get_by_role("button", name=re.compile(f"^Approve {t['project'].title}")).click()
        page.get_by_text(f"{t['project'].title} ({t['trust'].ods_code}) is now a team").wait_for()
    assert c.enrolments.filter(status="approved").count() == 2

    _teams_report(c, invited_trusts)
    page.get_by_role("link", name="Collaborative dashboard").click()
    page.get_by_role("heading", name="Collaborative dashboard").wait_for()
    html = page.content()
    for t in invited_trusts:
        assert t["project"].title in html
    assert html.count('class="app-small-multiple"') == 2
    assert "Reporting completeness" in html and "Progress scores by month" in html
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    if javascript:
        assert serious_axe_violations(page) == []
    # The team's report arrives with the faculty's place beside it.
    page.get_by_role("link", name="Falls on Cedar Ward").first.click()
    page.get_by_role("heading", name="Monthly reports").wait_for()
    assert "2.0 Activity, but no changes" in page.content()
    assert "Not assessed yet" in page.content()
    if javascript:
        assert serious_axe_violations(page) == []
        assert errors == []
    context.close()
