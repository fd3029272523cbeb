import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    return APIClient()


def test_api_denies_anonymous(api, db):
    assert api.get("/api/v1/trusts/").status_code == 401


def test_trusts_list_is_scoped_and_paginated(api, alice, trust_a, trust_b):
    api.force_authenticate(alice)
    body = api.get("/api/v1/trusts/").json()
    assert body["count"] == 1
    assert body["results"][0]["ods_code"] == trust_a.ods_code
    assert "next" in body


def test_outsider_gets_404_for_another_trust(api, charlie, trust_a):
    api.force_authenticate(charlie)
    assert api.get(f"/api/v1/trusts/{trust_a.ods_code}/").status_code == 404


def test_national_analyst_lists_every_trust(api, nadia, trust_a, trust_b):
    api.force_authenticate(nadia)
    assert api.get("/api/v1/trusts/").json()["count"] == 2


def test_units_subtree_filter(api, alice, trust_a, ward_a):
    api.force_authenticate(alice)
    root = ward_a.parent
    body = api.get(f"/api/v1/units/?under={root.pk}").json()
    assert {u["name"] for u in body["results"]} == {"Medicine", "Ward 7"}
    bad = api.get("/api/v1/units/?under=abc")
    assert bad.status_code == 400


def test_units_of_other_trusts_are_hidden(api, charlie, ward_a):
    api.force_authenticate(charlie)
    assert api.get("/api/v1/units/").json()["count"] == 0
    assert api.get(f"/api/v1/units/{ward_a.pk}/").status_code == 404


def test_api_list_query_count_is_constant(api, nadia, django_assert_max_num_queries):
    from tests.factories import TrustFactory

    api.force_authenticate(nadia)
    TrustFactory()
    with django_assert_max_num_queries(3):  # count, page of trusts with regions (+ savepoint)
        api.get("/api/v1/trusts/")
    TrustFactory.create_batch(30)
    with django_assert_max_num_queries(3):
        assert api.get("/api/v1/trusts/").json()["count"] == 31


def test_schema_and_docs_are_served_offline(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/trusts/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"https://" not in docs.content
