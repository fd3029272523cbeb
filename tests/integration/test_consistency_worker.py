"""Issue 20: the consistency test on PostgreSQL with a live Celery worker. The world is
committed, the snapshots, roll-ups and comparisons are built by the worker (through Redis),
and the same checks as tests/test_consistency.py then hold."""

import random

import pytest

from measures.models import Measure
from organisations.models import Membership
from reports import tasks
from reports.models import ComparisonSnapshot, Rollup, RollupMark
from tests.factories import MembershipFactory, TrustFactory, UserFactory
from tests.integration.polling import wait_for
from tests.test_consistency import _random_writes, _world, check_consistency

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=90.0):
    return wait_for(predicate, timeout)


def test_every_figure_reads_the_same_through_the_worker(live_worker, client):
    rng = random.Random(5)
    trust = TrustFactory(ods_code="RCW", name="Consistency Worker Trust")
    nadia = UserFactory(full_name="National analyst")  # publishes the definitions
    lead = MembershipFactory(trust=trust, role=Membership.Role.QI_LEAD).user
    _measures, nms, wards = _world(rng, trust, lead, nadia)
    _random_writes(rng, trust, lead)
    # Nothing in-process: the worker rebuilds the snapshots (dirty marks set above) and,
    # asked through the broker, the roll-ups the writes marked and the comparisons.
    assert _wait_for(lambda: not Measure.objects.filter(project__trust=trust,
                                                        dirty_since__isnull=False).exists()
                     and not Measure.objects.filter(project__trust=trust,
                                                    snapshot__isnull=True).exists())
    tasks.reconcile_rollups.delay()
    for nm in nms.values():
        tasks.build_comparison.delay(ComparisonSnapshot.Kind.NATIONAL, nm.pk, force=True)

    def built():
        row = Rollup.objects.filter(trust=trust, unit=None).order_by("-month").first()
        return (row is not None and row.built_at is not None and row.dirty_since is None
                and not RollupMark.objects.filter(trust_id=trust.pk).exists()
                and all(ComparisonSnapshot.objects.filter(
                    kind=ComparisonSnapshot.Kind.NATIONAL, object_id=nm.pk).exists()
                        for nm in nms.values()))

    assert _wait_for(built)
    check_consistency(client, trust, lead, wards)
