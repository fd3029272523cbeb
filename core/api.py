"""What every API viewset shares: incremental sync, conditional reads, one error shape and
the error responses in the OpenAPI schema. Imports Django and DRF only, no app.

- `SyncMixin` (first base of every viewset): `?updated_since=<ISO 8601>` on lists keeps the
  rows changed at or after that moment, ordered by (updated_at, id) so a client can page
  through a sync without missing or repeating a row; a bad value answers 400. GET answers
  carry a weak ETag of their body; `If-None-Match` with it answers 304 and no body.
- `exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"]): 400 →
  `{"detail": "...", "errors": {"field": ["message", ...]}}` (`non_field_errors` for the
  rest), every other error → `{"detail": "..."}`. Bodies that already carry `detail`
  (409 conflicts with the saved data) or `errors` (rejected data rows) keep their fields.
- `AutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]): documents 400/401/403/404/429 on
  every operation, and `updated_since` on every list.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import django_filters
from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import parse_etags
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler

UPDATED_SINCE = "updated_since"
INVALID_INPUT = "Some of what you sent is not valid: see errors."


# ---- incremental sync ----------------------------------------------------------------------


def parse_updated_since(raw: str):
    """An aware datetime from an ISO 8601 date or date-time, or a 400 naming the field."""
    value = raw.strip().replace(" ", "+")  # an unescaped "+" in a query string is a space
    moment = None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is not None:
                moment = dt.datetime(day.year, day.month, day.day)
    except ValueError:
        moment = None
    if moment is None:
        raise exceptions.ValidationError({UPDATED_SINCE: [
            "Give a date or date-time in ISO 8601, e.g. 2025-01-31T09:00:00Z."]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def sync_filter(request, queryset):
    """Apply `?updated_since=` to a list's queryset (no parameter: unchanged)."""
    raw = request.query_params.get(UPDATED_SINCE)
    if not raw:  # absent or empty: no filter, like every other list parameter
        return queryset
    since = parse_updated_since(raw)
    return queryset.filter(updated_at__gte=since).order_by("updated_at", "id")


def body_etag(response) -> str:
    digest = hashlib.sha256(response.content)
    digest.update((response.get("Content-Type") or "").encode())
    return f'W/"{digest.hexdigest()[:32]}"'


def _matches(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
    return "*" in wanted or etag.removeprefix("W/") in wanted


MAX_ID = 2**63 - 1


def _is_id(value) -> bool:
    return isinstance(value, str) and value.isascii() and value.isdigit() and int(value) <= MAX_ID


class SyncMixin:
    """First base of every API viewset (tests/test_api_access_matrix.py checks it)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # who you are first: 401 before 404
        for name, value in self.kwargs.items():
            if (name == "pk" or name.endswith("_id")) and not _is_id(value):
                raise exceptions.NotFound()  # not a whole number: no such object
        repeated = sorted(k for k, values in request.query_params.lists() if len(values) > 1)
        if repeated:
            raise exceptions.ValidationError({k: ["Send this parameter once."] for k in repeated})

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if getattr(self, "action", None) == "list":
            queryset = sync_filter(self.request, queryset)
        return queryset

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        if getattr(response, "streaming", False):
            return response
        if hasattr(response, "render"):
            response.render()
        etag = body_etag(response)
        response["ETag"] = etag
        patch_vary_headers(response, ["Authorization", "Cookie"])
        patch_cache_control(response, private=True, no_cache=True)
        if _matches(request, etag):
            not_modified = HttpResponseNotModified()
            for header in ("ETag", "Vary", "Cache-Control"):
                not_modified[header] = response[header]
            return not_modified
        return response


class IdFilter(django_filters.NumberFilter):
    """A filter by id: a whole number that fits an id column (0.5 or 10**30 → 400)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictCharField(serializers.CharField):
    """Text that must be sent as a JSON string (DRF's CharField turns 0 into "0")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# ---- one error shape -----------------------------------------------------------------------


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """{"field": ["message"]} from DRF's nested error detail; nested paths as `a.0.b`."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if name == "detail" and not prefix:
                name = "non_field_errors"
            for field, messages in _flatten(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item in ({}, []):
                    continue
                name = f"{prefix}.{index}" if prefix else str(index)
                for field, messages in _flatten(item, name).items():
                    out.setdefault(field, []).extend(messages)
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def exception_handler(exc, context):
    if isinstance(exc, ObjectDoesNotExist):
        # Gone between the lookup and the write (someone deleted it at the same moment).
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real server error: Django's 500 page, logged
    data = response.data
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": INVALID_INPUT, "errors": _flatten(exc.detail)}
    elif isinstance(data, dict) and ("detail" in data or "errors" in data):
        if response.status_code == 400:
            data.setdefault("detail", INVALID_INPUT)
        data["detail"] = str(data.get("detail", ""))
    elif response.status_code == 400:
        response.data = {"detail": INVALID_INPUT, "errors": _flatten(data)}
    else:
        response.data = {"detail": str(data)}
    if response.status_code == 400:
        response.data.setdefault("errors", {})
        if not response.data["errors"] and not isinstance(exc, exceptions.ValidationError):
            response.data["errors"] = {"non_field_errors": [response.data["detail"]]}
    return response


@csrf_exempt  # any method: a POST to a wrong address is a 404 too, not a CSRF page
def not_found(request, *args, **kwargs):
    """A JSON 404 for any /api/ address no endpoint answers (not the HTML page)."""
    return JsonResponse({"detail": "There is no API endpoint at this address."}, status=404)


# ---- the schema ----------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")


class ValidationErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in a sentence.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages per field; `non_field_errors` for the request as a whole.",
    )


ERROR_RESPONSES = {
    "400": (ValidationErrorSerializer, "Invalid input; nothing was saved.",
            {"detail": INVALID_INPUT, "errors": {"title": ["This field is required."]}}),
    "401": (ErrorSerializer, "The token or password is missing, wrong, expired or revoked.",
            {"detail": "The token has been revoked."}),
    "403": (ErrorSerializer, "You can see this, but your role may not do this.",
            {"detail": "You do not have permission to perform this action."}),
    "404": (ErrorSerializer, "Not found, or not yours to see.",
            {"detail": "No Project matches the given query."}),
    "429": (ErrorSerializer, "Too many requests: wait for the seconds in Retry-After.",
            {"detail": "Request was throttled. Expected available in 12 seconds."}),
}


def allow_empty_query_values(result, generator, request, public):
    """Postprocessing hook: an optional query parameter sent empty (`?month=`) means "no
    filter" on every list, so the schema says so (`allowEmptyValue`)."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
    return result


def _blank_allowed(field) -> bool:
    """A read-only choice field of a model field with blank=True can be "" (DRF drops
    allow_blank from read-only model fields, so the schema's enum would miss it)."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or not field.source or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).blank
    except Exception:  # noqa: BLE001 — not a model field: nothing to add
        return False


class AutoSchema(SpectacularAutoSchema):
    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if (isinstance(field, serializers.ChoiceField) and field.read_only
                and not field.allow_blank and _blank_allowed(field)):
            field.allow_blank = True
        return super()._map_serializer_field(field, direction, bypass_extensions)

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method == "GET" and self._is_list_view():
            parameters.append(OpenApiParameter(
                UPDATED_SINCE, OpenApiTypes.DATETIME,
                description="Only rows changed at or after this moment (ISO 8601), ordered "
                            "by (updated_at, id): keep the latest `updated_at` you saw and "
                            "send it next time. Deleted rows are not listed.",
                examples=[OpenApiExample("A moment", value="2025-01-31T09:00:00Z")],
            ))
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method in ("GET", "HEAD") and "200" in responses:
            responses["304"] = {"description": "Not modified: your If-None-Match ETag is "
                                               "still current (no body)."}
        for code, (serializer, description, example) in ERROR_RESPONSES.items():
            if code in responses:
                continue
            body = self._get_response_for_code(serializer, code, direction=direction)
            body["description"] = description
            for media in body.get("content", {}).values():
                media["examples"] = {"Example": {"value": example}}
            responses[code] = body
        return responses
