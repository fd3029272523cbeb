"""Who may bulk-ingest a measure's data (organisations.access, Permission.DATA_ENTER) and
who may read its exports: members of the project's trust with the right write; a board
member reads but may not write (403); an outsider sees nothing (404); a read-only service
token may not write at all (403); a read-write one may at its own trust."""

import pytest
from rest_framework.test import APIClient

from measures.models import DataPoint
from organisations import services
from organisations.models import Membership
from tests.factories import MeasureFactory, MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db

BODY = {"points": [{"period": "2025-01-01", "value": 3}, {"period": "2025-02-01", "value": 4}]}


@pytest.fixture
def measure(alice, trust_a):
    return MeasureFactory(project=ProjectFactory(trust=trust_a, lead=alice))


def _session(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _token(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


# who, expected answer to the bulk write, expected answer to the data export
ROWS = [
    ("alice", 200, 200),     # clinician, member of the trust
    ("quentin", 200, 200),   # QI lead
    ("bob", 403, 200),       # board member: reads, enters nothing
    ("charlie", 404, 404),   # another trust's clinician
    ("stranger", 404, 404),  # signed in, no role anywhere
]


@pytest.mark.parametrize("who, write, export", ROWS)
def test_bulk_ingest_and_export_by_role(who, write, export, measure, personas):
    client = _session(personas[who])
    r = client.post(f"/api/v1/measures/{measure.pk}/data-points/", BODY, format="json",
                    HTTP_IDEMPOTENCY_KEY=f"access-{who}")
    assert r.status_code == write
    assert DataPoint.objects.filter(measure=measure).count() == (2 if write == 200 else 0)
    assert client.get(f"/api/v1/measures/{measure.pk}/export/csv/").status_code == export


def test_anonymous_gets_401(measure):
    r = APIClient().post(f"/api/v1/measures/{measure.pk}/data-points/", BODY, format="json")
    assert r.status_code == 401
    assert not DataPoint.objects.exists()


@pytest.mark.parametrize("read_only, write", [(True, 403), (False, 200)])
def test_service_tokens(read_only, write, measure, trust_a, tara):
    _, secret = services.service_token_create(trust=trust_a, by=tara, name="Warehouse",
                                              read_only=read_only)
    client = _token(secret)
    r = client.post(f"/api/v1/measures/{measure.pk}/data-points/", BODY, format="json",
                    HTTP_IDEMPOTENCY_KEY="warehouse-1")
    assert r.status_code == write
    assert DataPoint.objects.filter(measure=measure).count() == (2 if write == 200 else 0)
    assert client.get(f"/api/v1/measures/{measure.pk}/export/csv/").status_code == 200


def test_another_trusts_service_token_gets_404(measure, trust_b):
    admin = services_admin(trust_b)
    _, secret = services.service_token_create(trust=trust_b, by=admin, name="Other",
                                              read_only=False)
    r = _token(secret).post(f"/api/v1/measures/{measure.pk}/data-points/", BODY,
                            format="json")
    assert r.status_code == 404


def services_admin(trust):
    return MembershipFactory(trust=trust, role=Membership.Role.TRUST_ADMIN).user
