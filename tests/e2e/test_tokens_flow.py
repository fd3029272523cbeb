"""A person creates an API token in the browser, copies it from the page that shows it once,
uses it against the live API, and revokes it: the next call answers 401. Every page passes
axe, with JavaScript on; the same journey works with JavaScript off."""

import json
import urllib.error
import urllib.request

import pytest

from organisations.models import ApiToken
from tests.e2e.conftest import serious_axe_violations
from tests.e2e.test_pdsa_flow import _sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _api(live_server, secret) -> int:
    request = urllib.request.Request(f"{live_server.url}/api/v1/trusts/",
                                     headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 — loopback
            json.load(response)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("javascript", [True, False])
def test_create_use_and_revoke_a_token(browser, live_server, alice, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    _sign_in(context, live_server, alice)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/me/")
    page.get_by_role("link", name="API tokens").click()
    page.wait_for_url("**/accounts/tokens/")
    if javascript:
        assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Create a token").click()
    page.get_by_label("Name").fill("Falls upload script")
    page.get_by_label("Expires after (days)").fill("30")
    if javascript:
        assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Create token").click()
    page.get_by_role("heading", name="Token created: Falls upload script").wait_for()
    if javascript:
        assert serious_axe_violations(page) == []
    secret = page.get_by_label("Your token").input_value()
    assert secret.startswith("qip_")
    assert _api(live_server, secret) == 200

    page.get_by_role("link", name="Back to the list of tokens").click()
    assert secret not in page.content()
    page.get_by_role("link", name="Revoke Falls upload script").click()
    if javascript:
        assert serious_axe_violations(page) == []
    page.get_by_role("button", name="Yes, revoke this token").click()
    page.wait_for_url("**/accounts/tokens/")
    assert "It no longer works" in page.content()
    assert ApiToken.objects.get().revoked_at is not None
    assert _api(live_server, secret) == 401
    context.close()
