"""The header menu shows only places the reader may go (organisations.access decides), and
marks the most specific one as current: /national/learning/ is Learning, not also National
view."""

import pytest
from django.test import RequestFactory

from organisations.context_processors import navigation

pytestmark = pytest.mark.django_db


def _menu(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return {item["label"]: item["current"] for item in navigation(request)["nav_items"]}


def test_an_analyst_sees_the_national_centre_pages(nadia):
    menu = _menu(nadia)
    assert {"Compare trusts", "Learning", "National view"} <= set(menu)


def test_a_clinician_compares_and_searches_learning_but_has_no_national_view(alice):
    menu = _menu(alice)
    assert {"Compare trusts", "Learning"} <= set(menu)
    assert "National view" not in menu


def test_someone_with_no_role_sees_none_of_them(stranger):
    assert not {"Compare trusts", "Learning", "National view"} & set(_menu(stranger))


def test_only_the_most_specific_item_is_current(nadia):
    menu = _menu(nadia, "/national/learning/?q=falls")
    assert menu["Learning"] is True
    assert menu["National view"] is False
    assert _menu(nadia, "/national/")["National view"] is True
