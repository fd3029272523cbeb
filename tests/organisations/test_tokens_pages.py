"""The token pages without JavaScript: a person's own tokens (create, see once, list,
revoke) and a trust administrator's service tokens, for the member, the outsider and the
wrong role; secrets stored only as hashes; query budgets at two data sizes."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from organisations import services, tokens
from organisations.models import ApiToken, AuditEvent, Membership

pytestmark = pytest.mark.django_db

MINE = reverse("accounts:api_tokens")
NEW = reverse("accounts:api_token_create")


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def _api_status(secret, url="/api/v1/trusts/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get(url).status_code


def _secret_on(page: str) -> str:
    match = re.search(r'id="token-secret" type="text" value="(qip_[^"]+)"', page)
    assert match, "the secret is shown on the result page"
    return match.group(1)


# ---- a person's own tokens ---------------------------------------------------------------


def test_create_shows_the_secret_once_and_stores_only_its_hash(client, alice):
    _sign_in(client, alice)
    assert "Create an API token" in _text(client.get(NEW))
    response = client.post(NEW, {"name": "Falls upload script", "expires_in_days": "30"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    secret = _secret_on(_text(response))
    token = ApiToken.objects.get()
    assert token.user == alice and token.trust is None
    assert bytes(token.key_hash) == tokens.hash_secret(secret)
    assert secret.encode() not in bytes(token.key_hash) and len(token.key_hash) == 32
    assert token.prefix == secret[:12]
    assert (token.expires_at - timezone.now()).days in (29, 30)
    # The list shows the name, the prefix and "Never" used, never the secret.
    listing = _text(client.get(MINE))
    assert "Falls upload script" in listing and token.prefix in listing
    assert "Never" in listing and secret not in listing
    assert _api_status(secret) == 200


@pytest.mark.parametrize("days, message", [
    ("0", "Enter a number of days from 1 to 365"),
    ("366", "Enter a number of days from 1 to 365"),
    ("ninety", "Enter the number of days as a whole number"),
])
def test_expiry_must_be_one_day_to_a_year(client, alice, days, message):
    response = _sign_in(client, alice).post(NEW, {"name": "Script", "expires_in_days": days})
    page = _text(response)
    assert response.status_code == 200
    assert "There is a problem" in page and message in page
    assert not ApiToken.objects.exists()


def test_a_name_with_an_nhs_number_is_refused(client, alice):
    response = _sign_in(client, alice).post(
        NEW, {"name": "Patient 943 476 5919", "expires_in_days": "90"})
    assert "There is a problem" in _text(response)
    assert not ApiToken.objects.exists()


def test_the_default_expiry_is_90_days(alice):
    token, _ = services.api_token_create(by=alice, name="Script")
    assert (token.expires_at - token.created_at).days == 90


def test_revoke_asks_first_and_stops_the_token_at_once(client, alice):
    token, secret = services.api_token_create(by=alice, name="Old script")
    url = reverse("accounts:api_token_revoke", args=[token.pk])
    _sign_in(client, alice)
    assert "Yes, revoke this token" in _text(client.get(url))
    assert ApiToken.objects.get().revoked_at is None  # GET changes nothing
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == MINE
    assert "Revoked Old script. It no longer works." in _text(response)
    assert ApiToken.objects.get().revoked_at is not None
    assert _api_status(secret) == 401
    # Revoking twice says so.
    assert "already been revoked" in _text(client.post(url))


def test_someone_elses_token_is_404(client, alice, bob):
    token, secret = services.api_token_create(by=bob, name="Bob's")
    _sign_in(client, alice)
    url = reverse("accounts:api_token_revoke", args=[token.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert _api_status(secret) == 200
    assert "Bob&#x27;s" not in client.get(MINE).content.decode()


def test_a_service_token_is_not_revoked_from_the_personal_page(client, tara, trust_a):
    token, _ = services.service_token_create(trust=trust_a, by=tara, name="Feed",
                                             read_only=True)
    _sign_in(client, tara)
    assert client.post(reverse("accounts:api_token_revoke", args=[token.pk])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_pages_need_a_signed_in_person_not_a_token(client, alice):
    _, secret = services.api_token_create(by=alice, name="Script")
    for url in (MINE, NEW):
        response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]


def test_last_used_is_written_at_most_once_a_minute(alice):
    token, secret = services.api_token_create(by=alice, name="Script")
    assert _api_status(secret) == 200
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    assert _api_status(secret) == 200
    assert ApiToken.objects.get().last_used_at == first  # same minute: no write
    ApiToken.objects.update(last_used_at=timezone.now() - dt.timedelta(minutes=2))
    assert _api_status(secret) == 200
    assert ApiToken.objects.get().last_used_at > first - dt.timedelta(seconds=1)


def test_a_token_cannot_make_tokens(alice):
    token, _ = services.api_token_create(by=alice, name="Script")
    alice._qi_token = token
    with pytest.raises(PermissionDenied):
        services.api_token_create(by=alice, name="Another")


@pytest.mark.parametrize("n", [2, 40])
def test_list_query_count_is_constant(client, alice, n, django_assert_max_num_queries):
    for i in range(n):
        services.api_token_create(by=alice, name=f"Script {i}")
    _sign_in(client, alice)
    # 1 session, 2 user, 3 memberships (the header's links), 4 the tokens (one query, no
    # per-row lookups).
    with django_assert_max_num_queries(4):
        response = client.get(MINE)
    assert _text(response).count("Revoke<span") == n


# ---- a trust's service tokens -------------------------------------------------------------

SERVICE = reverse("trust_admin:service_tokens", args=["RAA"])
SERVICE_NEW = reverse("trust_admin:service_token_create", args=["RAA"])


@pytest.mark.parametrize("persona, status", [
    ("tara", 200),      # the trust administrator
    ("alice", 403),     # a member without the right
    ("quentin", 403),   # a QI lead: still not theirs to manage
    ("nadia", 403),     # reads every trust, changes none
    ("charlie", 404),   # an outsider
    ("stranger", 404),
])
def test_service_token_pages_by_persona(client, personas, persona, status):
    _sign_in(client, personas[persona])
    assert client.get(SERVICE).status_code == status
    assert client.get(SERVICE_NEW).status_code == status
    response = client.post(SERVICE_NEW, {"name": "Feed", "expires_in_days": "30",
                                         "access": "read_only"})
    assert response.status_code == status
    assert ApiToken.objects.exists() is (status == 200)


def test_anonymous_is_sent_to_sign_in(client, trust_a):
    for url in (SERVICE, SERVICE_NEW, MINE):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/sign-in/" in response["Location"]


def test_create_and_revoke_a_service_token_audited(client, tara, trust_a):
    _sign_in(client, tara)
    response = client.post(SERVICE_NEW, {"name": "Data warehouse", "expires_in_days": "365",
                                         "access": "read_write"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    secret = _secret_on(_text(response))
    token = ApiToken.objects.get()
    account = token.user
    assert token.trust == trust_a and token.read_only is False and token.created_by == tara
    assert not account.has_usable_password() and account.is_active
    assert list(Membership.objects.filter(user=account).values_list("trust_id", "role")) == [
        (trust_a.pk, Membership.Role.CLINICIAN)]
    created = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_CREATED)
    assert created.actor == tara and created.trust == trust_a
    assert "read-write service token Data warehouse" in created.description
    assert secret not in created.description
    listing = _text(client.get(SERVICE))
    assert "Data warehouse" in listing and "Read and write" in listing
    assert _api_status(secret) == 200

    revoke = reverse("trust_admin:service_token_revoke", args=["RAA", token.pk])
    assert "Yes, revoke this token" in _text(client.get(revoke))
    response = client.post(revoke, follow=True)
    assert response.redirect_chain[-1][0] == SERVICE
    assert _api_status(secret) == 401
    account.refresh_from_db()
    assert not account.is_active
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED,
                                     actor=tara).count() == 1


def test_read_only_service_account_is_a_board_member(tara, trust_a):
    token, _ = services.service_token_create(trust=trust_a, by=tara, name="Feed",
                                             read_only=True)
    assert list(Membership.objects.filter(user=token.user).values_list("role", flat=True)) == [
        Membership.Role.BOARD_MEMBER]


def test_another_trusts_token_is_404_under_this_trust(client, tara, trust_b):
    from tests.conftest import _member

    admin_b = _member(trust_b, Membership.Role.TRUST_ADMIN)
    token, secret = services.service_token_create(trust=trust_b, by=admin_b, name="B feed",
                                                  read_only=True)
    _sign_in(client, tara)
    url = reverse("trust_admin:service_token_revoke", args=["RAA", token.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert _api_status(secret) == 200


def test_a_member_cannot_make_a_service_token_through_the_service(alice, trust_a):
    with pytest.raises(PermissionDenied):
        services.service_token_create(trust=trust_a, by=alice, name="Feed", read_only=False)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("n", [2, 30])
def test_service_list_query_count_is_constant(client, tara, trust_a, n,
                                              django_assert_max_num_queries):
    for i in range(n):
        services.service_token_create(trust=trust_a, by=tara, name=f"Feed {i}",
                                      read_only=bool(i % 2))
    _sign_in(client, tara)
    # 1 session, 2 user, 3 trust, 4 memberships (access; the header reuses them), 5 the
    # tokens joined to who made them.
    with django_assert_max_num_queries(5):
        response = client.get(SERVICE)
    assert _text(response).count("Revoke<span") == n


@pytest.mark.parametrize("n", [1, 30])
def test_signing_in_with_a_token_costs_one_query(alice, trust_a, n,
                                                 django_assert_max_num_queries):
    for i in range(n):
        services.api_token_create(by=alice, name=f"Script {i}")
    _, secret = services.api_token_create(by=alice, name="This one")
    assert _api_status(secret) == 200  # writes last_used_at
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    # 1 the token joined to its user (by hash; no UPDATE within the minute), 2 memberships
    # (scope), 3 count, 4 the page of trusts.
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/trusts/").status_code == 200
