"""Who may read and record QI capability and NHS IMPACT, and read the national pages
(organisations/access.py "QI capability"). Outsiders 404, members without the right 403."""

import pytest
from django.urls import reverse

from organisations import access, capability
from organisations.models import Membership
from tests.factories import MembershipFactory

TRUST_PAGES = ["reports:trust_capability", "reports:trust_capability_record",
               "reports:trust_capability_upload", "reports:trust_capability_template",
               "reports:trust_impact_record"]
READ = {"reports:trust_capability"}

# persona -> status for reading (the over-time page) and for recording pages.
EXPECTED_TRUST = {
    "alice": (200, 403),     # clinician at trust A
    "bob": (200, 403),       # board member at trust A
    "quentin": (200, 200),   # QI lead at trust A
    "tara": (200, 200),      # trust administrator at trust A
    "charlie": (404, 404),   # clinician at trust B
    "stranger": (404, 404),  # no role anywhere
    "nadia": (200, 403),     # national analyst: reads, records nothing
}
EXPECTED_NATIONAL = {"alice": 404, "bob": 404, "quentin": 404, "tara": 404,
                     "charlie": 404, "stranger": 404, "nadia": 200}


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.parametrize("persona", sorted(EXPECTED_TRUST))
def test_trust_capability_pages(client, personas, trust_a, persona):
    _sign_in(client, personas[persona])
    read, record = EXPECTED_TRUST[persona]
    for name in TRUST_PAGES:
        status = client.get(reverse(name, args=[trust_a.ods_code])).status_code
        assert status == (read if name in READ else record), (persona, name)


@pytest.mark.parametrize("persona", sorted(EXPECTED_TRUST))
def test_recording_by_post_follows_the_same_rule(client, personas, trust_a, persona):
    _sign_in(client, personas[persona])
    url = reverse("reports:trust_capability_record", args=[trust_a.ods_code])
    status = client.post(url, {}).status_code
    expected = EXPECTED_TRUST[persona][1]
    assert status == (200 if expected == 200 else expected)  # 200: the form with its errors


@pytest.mark.parametrize("persona", sorted(EXPECTED_NATIONAL))
def test_national_pages(client, personas, persona):
    _sign_in(client, personas[persona])
    for url in (reverse("reports:national"), reverse("reports:national_capability"),
                reverse("reports:national_activity_export", args=["csv"])):
        assert client.get(url).status_code == EXPECTED_NATIONAL[persona], (persona, url)


def test_levels_are_edited_by_the_centre_only(client, personas):
    url = reverse("reports:capability_levels")
    assert _sign_in(client, personas["nadia"]).get(url).status_code == 200
    for persona in ("quentin", "tara", "stranger"):
        assert _sign_in(client, personas[persona]).get(url).status_code == 404
    response = _sign_in(client, personas["nadia"]).post(url, {"name": "Foundation",
                                                              "order": "0", "active": "on"})
    assert response.status_code == 302
    assert "Foundation" in [lv.name for lv in capability.levels()]


def test_the_operator_may_record_anywhere(db, trust_a):
    from tests.factories import UserFactory

    operator = UserFactory(is_superuser=True, is_staff=True)
    assert access.may_record_capability(operator, trust_a)
    assert access.may_edit_capability_levels(operator)


def test_a_role_at_another_trust_grants_nothing_here(trust_a, trust_b):
    lead_b = MembershipFactory(trust=trust_b, role=Membership.Role.QI_LEAD).user
    assert not access.may_read_capability(lead_b, trust_a)
    assert not access.may_record_capability(lead_b, trust_a)
    assert access.may_record_capability(lead_b, trust_b)
