"""Pages that lead back instead of an empty answer."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme


def _back(request) -> str:
    """Where the form probably was: the page the browser came from (same site), else the
    nearest address above this one that is a page."""
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    parts = [p for p in request.path.split("/") if p]
    while parts:
        parts.pop()
        candidate = "/" + "/".join(parts) + ("/" if parts else "")
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return candidate
    return "/"


class MethodNotAllowedPage:
    """A browser that GETs a POST-only address (a link shared from the address bar, a
    reload after a save) gets a page in the NHS.UK layout that leads back, not an empty
    405. API answers are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and not response.content
            and not request.path.startswith("/api/")
        ):
            response.content = render_to_string(
                "405.html", {"back_url": _back(request)}, request=request
            ).encode()
            response["Content-Type"] = "text/html; charset=utf-8"
        return response
