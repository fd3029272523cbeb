"""Error pages in the NHS.UK layout (issue 9, item 9)."""

import logging

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from core.logging import OneLineForbidden
from tests.factories import ProjectFactory

HEADER = 'class="nhsuk-header'


def _sign_in(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def test_404_is_an_nhs_page(client, alice):
    response = _sign_in(client, alice).get("/projects/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert HEADER in html and "Page not found" in html and 'href="/"' in html


def test_403_is_an_nhs_page_and_logs_one_line(client, bob, trust_a, caplog):
    project = ProjectFactory(trust=trust_a)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = _sign_in(client, bob).get(reverse("projects:edit", args=[project.pk]))
    assert response.status_code == 403
    html = response.content.decode()
    assert HEADER in html and "You do not have permission" in html
    record = next(r for r in caplog.records if getattr(r, "status_code", None) == 403)
    assert OneLineForbidden().filter(record)
    line = logging.Formatter().format(record)
    assert "\n" not in line and "Traceback" not in line and project.title not in line
    assert "one_line_forbidden" in settings.LOGGING["handlers"]["console"]["filters"]


def test_a_forbidden_record_with_a_traceback_is_cut_to_its_line():
    try:
        raise PermissionError("no")
    except PermissionError:
        import sys

        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1,
                                   "Forbidden: %s", ("/x/",), sys.exc_info())
    record.status_code = 403
    assert OneLineForbidden().filter(record)
    assert "Traceback" not in logging.Formatter().format(record)


def test_500_is_an_nhs_page_that_needs_nothing_from_the_database(db):
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert HEADER in html and "problem with the service" in html


@pytest.mark.parametrize("api", [False, True])
def test_get_of_a_post_only_address_leads_back(client, alice, trust_a, api):
    project = ProjectFactory(trust=trust_a, lead=alice)
    _sign_in(client, alice)
    if api:
        response = client.get(f"/api/v1/projects/{project.pk}/transition/")
        assert response.status_code == 405 and "text/html" not in response["Content-Type"]
        return
    response = client.get(reverse("projects:driver_move", args=[project.pk, 1]))
    assert response.status_code == 405
    html = response.content.decode()
    assert HEADER in html and "only takes a form submission" in html
    assert response["Allow"]
    # The nearest page above the address: the driver diagram.
    assert f'href="/projects/{project.pk}/driver-diagram/"' in html
