"""Single sign-on with OpenID Connect (mozilla-django-oidc): staff sign in with their
organisation account (Microsoft Entra ID for NHSmail, NHS CIS2).

Off unless settings.OIDC_ENABLED (OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET set):
then /accounts/oidc/authenticate/ and /callback/ answer 404 and the sign-in page shows no
button. See docs/adr/0004-single-sign-on.md.

The first sign-in links to an EXISTING active portal account whose email address matches
the provider's `email` claim, and only when the provider says `email_verified` is true. It
never creates an account and never grants a role: the trust's QI team adds people and their
roles as before (organisations.services.invite), and single sign-on is one more way for that
person to prove who they are.

Endpoints come from settings when given, else from the issuer's discovery document
(`<issuer>/.well-known/openid-configuration`), read on first use and kept in memory, never
at import. ID tokens are RS256, checked against the provider's JWKS, with its `iss` and
`aud`; PKCE and a nonce guard the code flow.
"""

from __future__ import annotations

import logging
import threading

import jwt
import requests
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

log = logging.getLogger(__name__)

BACKEND = "organisations.oidc.PortalOIDCBackend"

NO_ACCOUNT = (
    "No portal account uses this email address. Ask your trust's QI team to add you, "
    "then sign in again."
)
NOT_VERIFIED = (
    "Your organisation account has not confirmed its email address, so it cannot be linked "
    "to a portal account. Sign in with your email address and password instead."
)
INACTIVE = (
    "The portal account for this email address is not active. Ask your trust's QI team."
)
LOCKED = (
    "This account is locked for a while after too many failed sign-in attempts. "
    "Try again later."
)
UNAVAILABLE = (
    "Single sign-on did not work this time. Try again, or sign in with your email address "
    "and password."
)

# Setting name → key in the discovery document.
_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}
_discovery: dict[str, dict] = {}
_discovery_lock = threading.Lock()


def enabled() -> bool:
    return bool(getattr(settings, "OIDC_ENABLED", False))


def provider_name() -> str:
    return getattr(settings, "OIDC_PROVIDER_NAME", "") or "your organisation"


def _discover(issuer: str) -> dict:
    """The provider's discovery document, fetched once per issuer per process."""
    with _discovery_lock:
        if issuer in _discovery:
            return _discovery[issuer]
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=getattr(settings, "OIDC_TIMEOUT", 10))
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ImproperlyConfigured(
                f"Single sign-on: could not read the OpenID Connect discovery document at "
                f"{url} ({exc.__class__.__name__}). Check OIDC_ISSUER, or set the endpoints "
                f"explicitly (OIDC_AUTHORIZATION_ENDPOINT, OIDC_TOKEN_ENDPOINT, "
                f"OIDC_USERINFO_ENDPOINT, OIDC_JWKS_ENDPOINT)."
            ) from exc
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != issuer:
            raise ImproperlyConfigured(
                f"Single sign-on: the discovery document at {url} names a different issuer "
                f"than OIDC_ISSUER ({issuer})."
            )
        _discovery[issuer] = document
        return document


def oidc_setting(attr, *args):
    """A mozilla-django-oidc setting; an endpoint left blank is discovered from the issuer."""
    value = getattr(settings, attr, None)
    if attr in _DISCOVERED and not value:
        value = _discover(settings.OIDC_ISSUER.rstrip("/")).get(_DISCOVERED[attr])
        if not value:
            raise ImproperlyConfigured(
                f"Single sign-on: the provider publishes no {_DISCOVERED[attr]}."
            )
        return value
    if value is None:
        if args:
            return args[0]
        raise ImproperlyConfigured(f"Single sign-on: setting {attr} not found")
    return value


def _is_true(value) -> bool:
    # Most providers send a JSON boolean; a few send the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class Refused(Exception):
    """The provider vouched for someone the portal will not sign in; the message says why."""

    REASONS = {NO_ACCOUNT: "no account", NOT_VERIFIED: "email not verified",
               INACTIVE: "account inactive", LOCKED: "account locked"}

    @property
    def reason(self) -> str:
        return self.REASONS.get(str(self), "refused")


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Links a verified email to an existing active account; never creates one.

    Settings are read when a callback arrives, not when Django builds the backend list for
    a password sign-in, so the password form never waits on the provider.
    """

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = auth.get_user_model()

    def _configure(self):
        super().__init__()

    def authenticate(self, request, **kwargs):
        # Only the callback view below calls with a nonce; a password sign-in passes
        # through here (the backend is in AUTHENTICATION_BACKENDS) and gets None.
        if not enabled() or request is None or "nonce" not in kwargs:
            return None
        self._configure()
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        issuer = settings.OIDC_ISSUER.rstrip("/")
        if str(payload.get("iss", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("ID token from another issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ID token for another client")
        return payload

    def verify_claims(self, claims):
        return bool(claims.get("email"))

    def filter_users_by_claims(self, claims):
        email = str(claims.get("email", "")).strip()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email)

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        if not self.verify_claims(claims):
            raise Refused(NO_ACCOUNT)
        if not _is_true(claims.get("email_verified")):
            raise Refused(NOT_VERIFIED)
        users = list(self.filter_users_by_claims(claims)[:2])
        if len(users) != 1:
            # Emails are unique case-insensitively (User.clean); two would be a data fault.
            raise Refused(NO_ACCOUNT)
        user = users[0]
        if not user.is_active:
            raise Refused(INACTIVE)
        # The lock django-axes keeps for failed passwords (per email and address) holds for
        # single sign-on too: one account, one lock.
        if AxesProxyHandler.is_locked(self.request, {"username": user.email.lower()}):
            raise Refused(LOCKED)
        return user

    def create_user(self, claims):  # never reached; a guard if a subclass changes the flow
        raise Refused(NO_ACCOUNT)

    def get_user(self, user_id):
        return ModelBackend.get_user(self, user_id)


class SignInRequestView(OIDCAuthenticationRequestView):
    """/accounts/oidc/authenticate/: sends the browser to the provider (404 when off)."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # settings are read per request, in get()

    get_settings = staticmethod(oidc_setting)

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not switched on.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ImproperlyConfigured as exc:
            log.error("%s", exc)
            messages.error(request, UNAVAILABLE)
            return HttpResponseRedirect(reverse("accounts:login"))
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class SignInCallbackView(OIDCAuthenticationCallbackView):
    """/accounts/oidc/callback/: the provider sends the browser back here with a code.

    Calls the backend itself rather than django.contrib.auth.authenticate(): a refusal
    here is not a wrong password, so it must not feed django-axes' failure count (which
    would lock everyone at that address under a blank username, and store the one-time
    code from the query string in its failure log). Axes' lock is still checked, per email,
    by the backend.
    """

    get_settings = staticmethod(oidc_setting)

    def login_failure(self, message=UNAVAILABLE):
        messages.error(self.request, message)
        return HttpResponseRedirect(reverse("accounts:login"))

    def get(self, request):
        if not enabled():
            raise Http404("Single sign-on is not switched on.")
        states = request.session.get("oidc_states") or {}
        state = request.GET.get("state")
        if request.GET.get("error") or "code" not in request.GET or state not in states:
            # Cancelled at the provider, a stale tab, or a forged request.
            if state in states:
                del states[state]
                request.session.save()
            return self.login_failure()
        entry = states.pop(state)
        request.session["oidc_states"] = states
        request.session.save()
        request.session = request.session.__class__(request.session.session_key)
        backend = PortalOIDCBackend()
        try:
            user = backend.authenticate(
                request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
            )
        except Refused as refusal:
            log.info("Single sign-on refused: %s", refusal.reason)  # no email: personal
            return self.login_failure(str(refusal))
        except (
            requests.RequestException, jwt.PyJWTError, SuspiciousOperation, ImproperlyConfigured,
        ) as exc:
            # The exception's class only: its text may carry a token or a code.
            log.warning("Single sign-on failed: %s", exc.__class__.__name__)
            return self.login_failure()
        if user is None or not user.is_active:
            return self.login_failure()
        user.backend = BACKEND
        self.user = user
        return self.login_success()
