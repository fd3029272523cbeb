"""Single sign-on with OpenID Connect, against a real provider on loopback.

The provider is tests/oidc_provider (django-oauth-toolkit's OIDC), started once per session
as a subprocess on 127.0.0.1 with its own SQLite file and a fresh RSA key. The portal side
runs in-process (the test client or the live server), switched on with the settings fixture.
"""

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from axes.models import AccessAttempt, AccessFailureLog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.urls import reverse

from organisations import oidc
from organisations.models import Membership, User
from tests.conftest import PASSWORD
from tests.factories import MembershipFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
SSO_BUTTON = "Sign in with your NHS organisation account"
PROVIDER_PASSWORD = "provider-pass-phrase-1"
CLIENT_ID = "qi-portal-test"
CLIENT_SECRET = "qi-portal-test-secret-that-is-long-enough"

# Who the provider knows. Portal accounts are made per test, where a test needs one.
KNOWN = "sso.alice@example.nhs.uk"
PROVIDER_USERS = [
    # The provider spells the address differently from the portal: matching ignores case.
    {"username": "known", "email": "SSO.Alice@Example.NHS.uk"},
    {"username": "unknown", "email": "nobody.here@example.nhs.uk"},
    {"username": "unverified", "email": "sso.unverified@example.nhs.uk",
     "email_verified": False},
    {"username": "inactive", "email": "sso.inactive@example.nhs.uk"},
]


class Provider:
    def __init__(self, process, port):
        self.process = process
        self.url = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.url}/o"


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    folder = tmp_path_factory.mktemp("oidc_provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = folder / "signing-key.pem"
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ))
    setup = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        # RFC 8252: django-oauth-toolkit ignores the port of a 127.0.0.1 redirect URI, so
        # this matches the live server on whatever port it gets; testserver is the client.
        "redirect_uris": [
            "http://127.0.0.1/accounts/oidc/callback/",
            "http://testserver/accounts/oidc/callback/",
        ],
        "users": [{**person, "password": PROVIDER_PASSWORD} for person in PROVIDER_USERS],
    }
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "OIDC_"))
    }
    env.update({
        "OIDC_PROVIDER_DB": str(folder / "provider.sqlite3"),
        "OIDC_PROVIDER_KEY_FILE": str(key_file),
        "OIDC_PROVIDER_SETUP": json.dumps(setup),
        "PYTHONPATH": str(ROOT),
    })
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.oidc_provider.serve"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        port = _wait_until_ready(process)
        yield Provider(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def _wait_until_ready(process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if line.startswith("READY "):
                return int(line.split()[1])
        if process.poll() is not None:
            raise RuntimeError(f"the test OIDC provider stopped: {process.stderr.read()}")
    raise RuntimeError("the test OIDC provider did not start in time")


@pytest.fixture
def sso_on(settings, provider):
    """Single sign-on switched on and pointed at the provider; endpoints discovered."""
    settings.OIDC_ENABLED = True
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_PROVIDER_NAME = "the test provider"
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, oidc.BACKEND]
    return provider


def _provider_sign_in(provider, authorize_url, username):
    """Sign in at the provider over real HTTP; return where it sends the browser back."""
    browser = requests.Session()
    page = browser.get(authorize_url, timeout=10)
    assert urlsplit(page.url).path == "/login/", page.text[:500]
    next_url = parse_qs(urlsplit(page.url).query)["next"][0]
    response = browser.post(
        f"{provider.url}/login/",
        data={
            "username": username,
            "password": PROVIDER_PASSWORD,
            "next": next_url,
            "csrfmiddlewaretoken": browser.cookies["provider_csrftoken"],
        },
        allow_redirects=False,
        timeout=10,
    )
    while response.is_redirect:
        location = requests.compat.urljoin(response.url, response.headers["Location"])
        if not location.startswith(provider.url):
            return location
        response = browser.get(location, allow_redirects=False, timeout=10)
    raise AssertionError(f"the provider did not send the browser back: {response.text[:500]}")


def _sso(client, provider, username, start_url=None):
    """The whole flow with the test client on the portal side; the portal's last answer."""
    start = client.get(start_url or reverse("oidc_authentication_init"))
    assert start.status_code == 302
    assert start["Location"].startswith(provider.issuer + "/authorize/")
    back = urlsplit(_provider_sign_in(provider, start["Location"], username))
    assert (back.scheme, back.netloc) == ("http", "testserver")
    return client.get(f"{back.path}?{back.query}")


def _refusal_page(client, response):
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    return client.get(response["Location"]).content.decode()


# --- switched off (the default) ---------------------------------------------------------


def test_off_by_default_no_button_and_the_endpoints_are_404(client, db, settings):
    assert settings.OIDC_ENABLED is False
    page = client.get(reverse("accounts:login")).content.decode()
    assert SSO_BUTTON not in page
    assert client.get("/accounts/oidc/authenticate/").status_code == 404
    assert client.get("/accounts/oidc/callback/?code=x&state=y").status_code == 404


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        ({}, False),
        ({"OIDC_ISSUER": "https://login.example.nhs.uk", "OIDC_CLIENT_ID": "portal"}, False),
        ({"OIDC_ISSUER": "https://login.example.nhs.uk", "OIDC_CLIENT_ID": "portal",
          "OIDC_CLIENT_SECRET": "s3cret"}, True),
    ],
)
def test_settings_switch_it_on_only_with_issuer_client_id_and_secret(env, enabled):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OIDC_")}
    script = (
        "from qi_portal import settings as s; "
        "print(s.OIDC_ENABLED, 'organisations.oidc.PortalOIDCBackend' in "
        "s.AUTHENTICATION_BACKENDS, s.AUTHENTICATION_BACKENDS[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out == [str(enabled), str(enabled), "axes.backends.AxesStandaloneBackend"]


# --- switched on --------------------------------------------------------------------------


def test_the_button_shows_when_on(client, db, sso_on):
    page = client.get(reverse("accounts:login")).content.decode()
    assert SSO_BUTTON in page
    assert "the test provider" in page
    assert 'href="/accounts/oidc/authenticate/"' in page


def test_a_verified_email_links_to_the_existing_account(client, db, sso_on):
    user = MembershipFactory(user__email=KNOWN, role=Membership.Role.CLINICIAN).user
    assert user.last_login is None
    users, memberships = User.objects.count(), Membership.objects.count()
    response = _sso(client, sso_on, "known")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session["_auth_user_backend"] == oidc.BACKEND
    user.refresh_from_db()
    assert user.last_login is not None  # recorded as the password sign-in records it
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)
    # Signed in for real: the home page sends a clinician to their projects.
    assert client.get(reverse("home"))["Location"] == reverse("projects:list") + "?mine=1"


def test_explicit_endpoints_need_no_discovery(client, db, sso_on, settings):
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{sso_on.issuer}/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{sso_on.issuer}/token/"
    settings.OIDC_OP_USER_ENDPOINT = f"{sso_on.issuer}/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{sso_on.issuer}/.well-known/jwks.json"
    oidc._discovery.clear()
    user = UserFactory(email=KNOWN)
    response = _sso(client, sso_on, "known")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert sso_on.issuer not in oidc._discovery


def test_the_page_asked_for_comes_next(client, db, sso_on):
    user = UserFactory(email=KNOWN)
    page = client.get(reverse("accounts:login") + "?next=/accounts/me/").content.decode()
    assert 'href="/accounts/oidc/authenticate/?next=/accounts/me/"' in page
    response = _sso(client, sso_on, "known", "/accounts/oidc/authenticate/?next=/accounts/me/")
    assert response["Location"] == "/accounts/me/"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_an_unknown_email_is_refused_and_nothing_is_created(client, db, sso_on, trust_a):
    users, memberships = User.objects.count(), Membership.objects.count()
    page = _refusal_page(client, _sso(client, sso_on, "unknown"))
    assert "No portal account uses this email address" in page
    assert "QI team" in page
    assert not User.objects.filter(email__iexact="nobody.here@example.nhs.uk").exists()
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)
    # A refusal is not a wrong password: it feeds no lock, and the code is not logged.
    assert AccessAttempt.objects.count() == 0
    assert AccessFailureLog.objects.count() == 0


def test_an_unverified_email_is_refused_even_when_an_account_has_it(client, db, sso_on):
    UserFactory(email="sso.unverified@example.nhs.uk")
    page = _refusal_page(client, _sso(client, sso_on, "unverified"))
    assert "has not confirmed its email address" in page


def test_an_inactive_account_is_refused(client, db, sso_on):
    UserFactory(email="sso.inactive@example.nhs.uk", is_active=False)
    page = _refusal_page(client, _sso(client, sso_on, "inactive"))
    assert "not active" in page


def test_an_email_locked_by_failed_passwords_is_locked_for_sso_too(client, db, sso_on,
                                                                  settings):
    user = UserFactory(email=KNOWN)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": user.email, "password": "nope"})
    page = _refusal_page(client, _sso(client, sso_on, "known"))
    assert "locked" in page


def test_a_tampered_state_is_refused(client, db, sso_on):
    UserFactory(email=KNOWN)
    start = client.get(reverse("oidc_authentication_init"))
    back = urlsplit(_provider_sign_in(sso_on, start["Location"], "known"))
    query = parse_qs(back.query)
    response = client.get(back.path, {"code": query["code"][0], "state": "forged"})
    page = _refusal_page(client, response)
    assert "Single sign-on did not work this time" in page


def test_an_unreachable_provider_gives_a_clear_message(client, db, sso_on, settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/nothing-listens-here"
    response = client.get(reverse("oidc_authentication_init"))
    page = _refusal_page(client, response)
    assert "Single sign-on did not work this time" in page


def test_password_sign_in_still_works_and_never_asks_the_provider(client, db, sso_on,
                                                                  settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9/nothing-listens-here"
    user = UserFactory()
    response = client.post(reverse("accounts:login"),
                           {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


@pytest.mark.parametrize("others", [0, 40])
def test_the_callback_costs_the_same_queries_however_many_people(
    client, db, sso_on, django_assert_max_num_queries, others
):
    UserFactory.create_batch(others)
    MembershipFactory(user__email=KNOWN, role=Membership.Role.CLINICIAN)
    start = client.get(reverse("oidc_authentication_init"))
    back = urlsplit(_provider_sign_in(sso_on, start["Location"], "known"))
    with django_assert_max_num_queries(20):  # measured: 20, for 0 or 40 others
        response = client.get(f"{back.path}?{back.query}")
    assert client.session["_auth_user_id"]
    assert response.status_code == 302


# --- in a real browser --------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS,
            "headless": True}


def _chromium_missing():
    from tests.e2e.conftest import CHROMIUM

    return not os.path.exists(CHROMIUM)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(_chromium_missing(), reason="no Chromium: install Debian's chromium")
def test_browser_signs_in_through_the_provider(page, live_server, sso_on):
    from tests.e2e.conftest import serious_axe_violations

    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location}")
            if msg.type == "error" else None)
    user = MembershipFactory(user__email=KNOWN, role=Membership.Role.CLINICIAN,
                             user__full_name="Alice Single-Sign-On").user
    memberships = Membership.objects.count()
    # The provider's redirect URI is on 127.0.0.1 (any port), so the portal is too.
    portal = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{portal}/accounts/sign-in/")
    assert serious_axe_violations(page) == []
    page.get_by_role("button", name=SSO_BUTTON).click()
    page.wait_for_url(f"{sso_on.url}/login/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Test identity provider"
    page.get_by_label("Username").fill("known")
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{portal}/projects/?mine=1")
    assert page.get_by_role("heading", level=1).inner_text() == "My projects"
    assert page.get_by_role("button", name="Sign out").is_visible()
    user.refresh_from_db()
    assert user.last_login is not None
    assert Membership.objects.count() == memberships
    assert errors == []


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(_chromium_missing(), reason="no Chromium: install Debian's chromium")
def test_browser_unknown_email_sees_why(page, live_server, sso_on):
    from tests.e2e.conftest import serious_axe_violations

    portal = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{portal}/accounts/sign-in/")
    page.get_by_role("button", name=SSO_BUTTON).click()
    page.wait_for_url(f"{sso_on.url}/login/**")
    page.get_by_label("Username").fill("unknown")
    page.get_by_label("Password").fill(PROVIDER_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{portal}/accounts/sign-in/")
    assert "No portal account uses this email address" in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name="Sign in", exact=True).is_visible()
    assert serious_axe_violations(page) == []
    assert not User.objects.filter(email__iexact="nobody.here@example.nhs.uk").exists()
