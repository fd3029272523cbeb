"""Issue 9.7: two trust administrators revoking each other's role at the same moment must
not leave the trust with none. PostgreSQL only (SQLite serialises every write anyway)."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from organisations import services
from organisations.models import Membership, User
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_admins_revoking_each_other_leave_one_admin(tara, trust_a):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL: DATABASE_URL is not PostgreSQL")
    other = MembershipFactory(trust=trust_a, role=Membership.Role.TRUST_ADMIN).user
    pairs = [(tara.pk, other.pk), (other.pk, tara.pk)]
    barrier = threading.Barrier(2)
    outcomes = []

    def revoke(actor_id, target_id):
        try:
            actor = User.objects.get(pk=actor_id)
            target = Membership.objects.get(user_id=target_id, trust=trust_a)
            barrier.wait()
            services.revoke_role(membership=target, by=actor)
            outcomes.append("revoked")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=revoke, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "revoked"]
    assert Membership.objects.filter(trust=trust_a, role="trust_admin").count() == 1
