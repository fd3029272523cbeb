"""The national centre's home and a trust's capability pages in a browser: no serious axe
violations, filters and forms work without JavaScript."""

import datetime as dt

import pytest

from organisations import capability
from organisations.models import CapabilityReturn
from reports import national
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in
from tests.factories import TrustFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _returns(trust):
    levels = capability.levels()
    for quarter, staff, trained in ((dt.date(2025, 1, 1), 4000, 80), (dt.date(2025, 4, 1),
                                                                        4000, 120)):
        capability.return_save(_lead(trust), trust, quarter=quarter,
                               headcount=staff, leadership_completions=2,
                               trained={levels[0].pk: trained})


def _lead(trust):
    from organisations.models import Membership
    from tests.factories import MembershipFactory

    found = trust.memberships.filter(role=Membership.Role.QI_LEAD).first()
    return found.user if found else MembershipFactory(trust=trust,
                                                      role=Membership.Role.QI_LEAD).user


def test_national_home_is_accessible_and_filters_without_javascript(browser, live_server,
                                                                    nadia, trust_a, trust_b):
    _returns(trust_a)
    TrustFactory(name="Third Trust")
    national.build()
    context = browser.new_context()  # axe runs as JavaScript in the page
    _sign_in(context, live_server, nadia)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/national/")
    assert page.get_by_role("heading", name="National centre").count() == 1
    assert serious_axe_violations(page) == []
    page.goto(f"{live_server.url}/national/capability/")
    assert serious_axe_violations(page) == []
    context.close()
    # The filters are a plain GET form: they work with JavaScript off.
    context = browser.new_context(java_script_enabled=False)
    _sign_in(context, live_server, nadia)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/national/")
    page.get_by_label("Region").select_option(label=trust_a.region.name)
    page.get_by_role("button", name="Apply").click()
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert trust_a.name in rows.first.inner_text()
    assert "30.0" in rows.first.inner_text()  # 120 trained per 4,000 staff
    context.close()


def test_trust_records_a_quarter_and_sees_it(browser, live_server, quentin, trust_a):
    levels = capability.levels()
    context = browser.new_context()  # axe needs JavaScript; the form needs none
    _sign_in(context, live_server, quentin)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/trusts/{trust_a.ods_code}/capability/record/")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Save the return").click()
    assert page.get_by_text("There is a problem").count() == 1
    assert serious_axe_violations(page) == []
    quarter = capability.recent_quarters(2)[0]
    page.get_by_label("Quarter").select_option(quarter.isoformat())
    page.get_by_label("Staff headcount").fill("2000")
    for level in levels:
        page.get_by_label(f"Staff trained: {level.name}").fill("25")
    page.get_by_label("Leadership programme completions").fill("3")
    page.get_by_role("button", name="Save the return").click()
    assert CapabilityReturn.objects.filter(trust=trust_a, quarter=quarter).exists()
    assert page.get_by_role("heading", name="QI capability and NHS IMPACT").count() == 1
    assert page.get_by_role("cell", name="50.0").count() >= 1  # 100 per 2,000 staff
    assert serious_axe_violations(page) == []
    context.close()
