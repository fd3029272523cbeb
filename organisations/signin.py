"""Who is signing in, as django-axes counts failures: the same for the sign-in form and
for HTTP Basic on the API, and the client's own address even behind trusted proxies.

Failures are counted per (email, client address), so nobody can lock someone else out
from another address, and a proxy in front of the portal does not make every client share
one address. Only the proxies the deployment declares (TRUSTED_PROXY_COUNT) are believed:
the X-Forwarded-For entries before theirs were written by the client and are ignored.
"""

from __future__ import annotations

from django.conf import settings


def username(request, credentials=None) -> str:
    """The email being tried: the form posts `username`, DRF's Basic auth passes `email`."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get("username", "")
    return str(value or "").strip().lower()


def client_ip(request) -> str:
    """The address of the client as the first trusted proxy saw it, else REMOTE_ADDR."""
    meta = getattr(request, "META", {})
    remote = meta.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies]
