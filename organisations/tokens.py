"""API tokens: making a secret, hashing it, and the DRF authentication class.

`Authorization: Bearer <secret>` (or `Token <secret>`). A missing header leaves the other
authentication classes to try (session, Basic); a header with a bad, expired or revoked
token answers 401 with `WWW-Authenticate: Bearer`, never 403, whatever class comes first.
Secrets are never logged: only their SHA-256 is stored or looked up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from organisations import access
from organisations.models import ApiToken

SECRET_MARK = "qip_"  # so secret scanners (and people) can tell a QI Portal token
PREFIX_LENGTH = 12  # "qip_" and 8 characters of the secret: shown in lists
KEYWORDS = (b"bearer", b"token")
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
REALM = 'Bearer realm="api"'


def new_secret() -> str:
    return SECRET_MARK + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    # A fast hash is right here: the secret has 256 bits of entropy, so there is nothing to
    # guess; a slow password hash would only slow every request.
    return hashlib.sha256(secret.encode()).digest()


class InvalidToken(exceptions.APIException):
    """401 with a Bearer challenge. Not an `AuthenticationFailed`: DRF turns those into 403
    when the first authentication class (the session) offers no challenge."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "authentication_failed"
    auth_header = REALM

    def __init__(self, detail):
        super().__init__(detail)


class ReadOnlyToken(exceptions.PermissionDenied):
    default_detail = "This token is read-only: it may not change anything."


class BearerTokenAuthentication(BaseAuthentication):
    """Signs a request in as the token's user, carrying the token's limits on the user
    object for `organisations.access`."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise InvalidToken("Send the token as 'Authorization: Bearer <token>'.")
        try:
            secret = parts[1].decode()
        except UnicodeError:
            raise InvalidToken("The token is not valid.") from None
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=hash_secret(secret))
            .first()
        )
        now = timezone.now()
        if token is None:
            raise InvalidToken("The token is not valid.")
        if token.revoked_at is not None:
            raise InvalidToken("The token has been revoked.")
        if token.expires_at <= now:
            raise InvalidToken("The token has expired. Create a new one.")
        user = token.user
        if not user.is_active:
            raise InvalidToken("The account this token belongs to is switched off.")
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            # Conditional: of many requests in the same minute, one writes.
            ApiToken.objects.filter(pk=token.pk).exclude(
                last_used_at__gt=now - LAST_USED_RESOLUTION
            ).update(last_used_at=now)
            token.last_used_at = now
        user._qi_token = token
        if not access.api_method_allowed(user, request.method):
            raise ReadOnlyToken()
        return user, token

    def authenticate_header(self, request):
        return REALM


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI schema (loaded with the class above)."""

    target_class = "organisations.tokens.BearerTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal or service token from /accounts/tokens/ or a trust's "
                           "service tokens page: `Authorization: Bearer qip_…`.",
        }


# ---- reads for the token pages (already scoped: the caller checked access) ---------------


def personal_tokens_of(user):
    """A person's own tokens, newest first, revoked ones too (so they can see what
    stopped working)."""
    return ApiToken.objects.filter(user=user, trust__isnull=True).order_by("-created_at", "-id")


def service_tokens_at(trust):
    return (ApiToken.objects.filter(trust=trust).select_related("created_by")
            .order_by("-created_at", "-id"))
