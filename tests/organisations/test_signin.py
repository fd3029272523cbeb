"""Sign-in throttling that cannot be turned against others: the same count for the form and
HTTP Basic, per email and per client, with the client address taken past trusted proxies."""

import base64

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from organisations import signin
from tests.conftest import PASSWORD


def _basic(email, password):
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def _fail(client, email, settings, **extra):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": email, "password": "nope"},
                    **extra)


def test_a_locked_account_cannot_use_basic_auth_either(client, alice, settings):
    _fail(client, alice.email, settings)
    response = client.get("/api/v1/trusts/", HTTP_AUTHORIZATION=_basic(alice.email, PASSWORD))
    assert response.status_code == 401  # refused credentials: 401 with a challenge, not 403


def test_basic_failures_count_towards_the_same_lock(alice, settings):
    api = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.get("/api/v1/trusts/", HTTP_AUTHORIZATION=_basic(alice.email, "nope"))
    response = Client().post(reverse("accounts:login"),
                             {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 429


def test_blank_basic_attempts_do_not_block_everyone_at_that_address(alice, settings):
    api = Client(REMOTE_ADDR="10.0.0.9")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        api.get("/api/v1/trusts/", HTTP_AUTHORIZATION=_basic("", "x"))
    response = api.get("/api/v1/trusts/", HTTP_AUTHORIZATION=_basic(alice.email, PASSWORD))
    assert response.status_code == 200


def test_behind_a_trusted_proxy_one_client_cannot_lock_out_another(alice, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.1.1.1"}
    attacker = Client(**proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    _fail(attacker, alice.email, settings)
    victim = Client(**proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
    response = victim.post(reverse("accounts:login"),
                           {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302  # signed in
    locked = attacker.post(reverse("accounts:login"),
                           {"username": alice.email, "password": PASSWORD})
    assert locked.status_code == 429


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "1.2.3.4", "10.1.1.1"),  # no proxy declared: a client's header is not believed
        (1, "1.2.3.4", "1.2.3.4"),
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # the spoofed left-most entry is ignored
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
        (2, "1.2.3.4", "10.1.1.1"),  # fewer entries than proxies: fall back to the peer
    ],
)
def test_client_address(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1",
                                   HTTP_X_FORWARDED_FOR=forwarded)
    assert signin.client_ip(request) == expected


def test_username_is_the_email_however_it_arrives():
    assert signin.username(None, {"email": " Alice@Example.NHS.uk "}) == "alice@example.nhs.uk"
    assert signin.username(None, {"username": "bob@example.nhs.uk"}) == "bob@example.nhs.uk"
    request = RequestFactory().post("/", {"username": "c@example.nhs.uk"})
    assert signin.username(request) == "c@example.nhs.uk"
