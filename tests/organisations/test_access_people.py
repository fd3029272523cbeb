"""Issue 9.7 access rows: every page of a trust administrator × every persona.

Outsiders (another trust's clinician, a signed-in person with no role) get 404; members of
the trust without the right (clinician, QI lead, board member) get 403; the national
analyst, who reads every trust but changes none, also gets 403 on every one of these pages,
reading included: they are management pages listing staff contact details, and the analyst
holds TRUST_VIEW but not MEMBERSHIP_MANAGE or UNIT_MANAGE. The trust administrator and the
platform operator get the page. Any id that belongs to another trust answers 404.
"""

import pytest
from django.urls import reverse

from organisations import access
from organisations.models import AuditEvent, Membership, Unit, User
from tests.factories import MembershipFactory, UnitFactory, UserFactory

PERSONAS = ["alice", "quentin", "bob", "tara", "charlie", "nadia", "stranger", "operator"]
GET_STATUS = {"alice": 403, "quentin": 403, "bob": 403, "nadia": 403, "charlie": 404,
              "stranger": 404, "tara": 200, "operator": 200}
# A successful POST redirects (post/redirect/get).
POST_STATUS = {**GET_STATUS, "tara": 302, "operator": 302}


@pytest.fixture
def everyone(personas):
    return {**personas, "operator": UserFactory(is_superuser=True, is_staff=True)}


@pytest.fixture
def world(trust_a, ward_a, alice):
    """What the URLs point at: alice's membership, a leaf ward at trust A."""
    return {
        "membership": Membership.objects.get(user=alice, trust=trust_a),
        "ward": ward_a,
        "alice": alice,
    }


def _urls(world, ods="RAA"):
    ward, membership = world["ward"], world["membership"]
    return {
        "people": reverse("trust_admin:people", args=[ods]),
        "invite": reverse("trust_admin:invite", args=[ods]),
        "person": reverse("trust_admin:person", args=[ods, world["alice"].pk]),
        "revoke": reverse("trust_admin:revoke", args=[ods, membership.pk]),
        "units": reverse("trust_admin:units", args=[ods]),
        "unit_add": reverse("trust_admin:unit_add", args=[ods]),
        "unit_rename": reverse("trust_admin:unit_rename", args=[ods, ward.pk]),
        "unit_move": reverse("trust_admin:unit_move", args=[ods, ward.pk]),
        "unit_remove": reverse("trust_admin:unit_remove", args=[ods, ward.pk]),
        "audit": reverse("trust_admin:audit", args=[ods]),
    }


def _posts(world):
    return {
        "invite": {"email": "new.person@example.nhs.uk", "full_name": "New Person",
                   "roles": ["clinician"]},
        "person": {"role": "qi_lead"},
        "revoke": {},
        "unit_add": {"name": "Ward 99", "kind": "ward", "parent": str(world["ward"].parent_id)},
        "unit_rename": {"name": "Ward Seven"},
        "unit_move": {"parent": ""},
        "unit_remove": {},
    }


GET_PAGES = ["people", "invite", "person", "revoke", "units", "unit_add", "unit_rename",
             "unit_move", "unit_remove", "audit"]
POST_PAGES = ["invite", "person", "revoke", "unit_add", "unit_rename", "unit_move",
              "unit_remove"]


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


@pytest.mark.parametrize("page", GET_PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_get_matrix(client, everyone, world, persona, page):
    _sign_in(client, everyone[persona])
    response = client.get(_urls(world)[page])
    assert response.status_code == GET_STATUS[persona]


@pytest.mark.parametrize("page", POST_PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_post_matrix_and_only_allowed_posts_change_anything(
    client, everyone, world, persona, page
):
    _sign_in(client, everyone[persona])
    before = AuditEvent.objects.count()
    response = client.post(_urls(world)[page], _posts(world)[page])
    assert response.status_code == POST_STATUS[persona], response.content[:2000]
    changed = AuditEvent.objects.count() - before
    assert changed == (1 if POST_STATUS[persona] == 302 else 0)


@pytest.mark.parametrize("page", GET_PAGES)
def test_anonymous_is_sent_to_sign_in(client, world, page):
    response = client.get(_urls(world)[page])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("page", GET_PAGES)
def test_a_trust_admin_is_an_outsider_at_another_trust(client, tara, trust_b, world, page):
    """Tara's URLs with trust B's code: the same ids answer 404 there."""
    _sign_in(client, tara)
    assert client.get(_urls(world, ods=trust_b.ods_code)[page]).status_code == 404


# ---- tampered requests: another trust's ids at trust A's pages -------------------------


@pytest.fixture
def theirs(trust_b, charlie):
    division = UnitFactory(trust=trust_b, name="Inpatients", kind="division")
    return {
        "unit": UnitFactory(trust=trust_b, name="Willow Ward", kind="ward", parent=division),
        "membership": Membership.objects.get(user=charlie, trust=trust_b),
        "charlie": charlie,
    }


def test_another_trusts_person_is_404(client, tara, theirs):
    _sign_in(client, tara)
    url = reverse("trust_admin:person", args=["RAA", theirs["charlie"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"role": "clinician"}).status_code == 404
    assert not Membership.objects.filter(user=theirs["charlie"], trust__ods_code="RAA").exists()


def test_another_trusts_membership_is_404(client, tara, theirs):
    _sign_in(client, tara)
    url = reverse("trust_admin:revoke", args=["RAA", theirs["membership"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert Membership.objects.filter(pk=theirs["membership"].pk).exists()


@pytest.mark.parametrize("page", ["unit_rename", "unit_move", "unit_remove"])
def test_another_trusts_unit_in_the_url_is_404(client, tara, theirs, page):
    _sign_in(client, tara)
    url = reverse(f"trust_admin:{page}", args=["RAA", theirs["unit"].pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"name": "Hijacked", "parent": ""}).status_code == 404
    unit = Unit.objects.get(pk=theirs["unit"].pk)
    assert (unit.name, unit.parent_id) == ("Willow Ward", theirs["unit"].parent_id)


def test_another_trusts_unit_as_the_new_parent_is_404(client, tara, theirs, ward_a):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:unit_add", args=["RAA"]),
                           {"name": "Sneaky", "kind": "ward", "parent": theirs["unit"].pk})
    assert response.status_code == 404
    assert not Unit.objects.filter(name="Sneaky").exists()
    response = client.post(reverse("trust_admin:unit_move", args=["RAA", ward_a.pk]),
                           {"parent": theirs["unit"].pk})
    assert response.status_code == 404
    ward_a.refresh_from_db()
    assert ward_a.trust.ods_code == "RAA" and not ward_a.path.startswith(theirs["unit"].path)
    assert not AuditEvent.objects.exists()


def test_invite_ignores_fields_that_would_raise_privileges_or_touch_another_trust(
    client, tara, trust_b
):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:invite", args=["RAA"]), {
        "email": "eve@example.nhs.uk", "full_name": "Eve", "roles": ["clinician"],
        "is_superuser": "on", "is_staff": "on", "is_national_analyst": "on",
        "trust": trust_b.pk, "trust_id": trust_b.pk,
    })
    assert response.status_code == 302
    eve = User.objects.get(email="eve@example.nhs.uk")
    assert not (eve.is_superuser or eve.is_staff or eve.is_national_analyst)
    assert list(eve.memberships.values_list("trust__ods_code", "role")) == [("RAA", "clinician")]


@pytest.mark.parametrize("role", ["superuser", "national_analyst", "staff", ""])
def test_grant_accepts_only_this_trusts_roles(client, tara, alice, role):
    _sign_in(client, tara)
    response = client.post(reverse("trust_admin:person", args=["RAA", alice.pk]),
                           {"role": role})
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    alice.refresh_from_db()
    assert not (alice.is_superuser or alice.is_staff or alice.is_national_analyst)
    assert list(alice.memberships.values_list("role", flat=True)) == ["clinician"]


def test_the_django_admin_still_refuses_a_trust_admin(client, tara):
    _sign_in(client, tara)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


# ---- the access functions behind the "Manage people / units" links ---------------------


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_manages_people_and_units(everyone, trust_a, trust_b, persona):
    user = everyone[persona]
    expected = persona in ("tara", "operator")
    assert access.manages_people_at(user, trust_a) is expected
    assert access.manages_units_at(user, trust_a) is expected
    assert access.manages_people_at(user, trust_b) is (persona == "operator")


def test_a_trust_admin_of_b_manages_b_only(trust_a, trust_b):
    admin_b = MembershipFactory(trust=trust_b, role=Membership.Role.TRUST_ADMIN).user
    assert access.manages_people_at(admin_b, trust_b)
    assert not access.manages_people_at(admin_b, trust_a)
