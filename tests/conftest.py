"""Shared fixtures: personas, named for the people in our stories.

- alice: clinician at trust A (Northgate)      - quentin: QI lead at trust A
- bob:   board member at trust A              - tara: trust administrator at trust A
- charlie: clinician at trust B — "should have no access to trust A's things"
- nadia: national-centre analyst             - stranger: signed in, no role anywhere
"""

import os

import pytest

from organisations.models import Membership
from tests.factories import MembershipFactory, RegionFactory, TrustFactory, UnitFactory, UserFactory

# Django's live_server with sync Playwright runs ORM calls from an event loop thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _tasks_in_process(request):
    """Run Celery tasks in-process except in tests/integration.

    A test's data lives in a transaction a separate worker cannot see, so unit, page and
    browser tests run tasks eagerly whatever REDIS_URL says; the integration tests
    (transactional, committed data) are the ones that go through Redis to a live worker.
    """
    if request.node.get_closest_marker("integration"):
        yield
        return
    from qi_portal.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def _fresh_cache():
    # API throttles count in the cache; ids repeat between tests, so start each one clean.
    from django.core.cache import cache, caches
    from django.core.cache.backends.locmem import LocMemCache

    cache.clear()
    # The dashboards' cache too when it is in memory. On Redis it is never cleared (that
    # would flush the broker's database): its keys hold a fresh random generation token
    # per trust, and PostgreSQL never reuses a trust's id within a run.
    if isinstance(caches["dashboards"], LocMemCache):
        caches["dashboards"].clear()
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs ~0.3 s a user; tests make hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def trust_a(db):
    return TrustFactory(ods_code="RAA", name="Northgate Teaching Hospitals",
                        region=RegionFactory(code="Y63", name="North East and Yorkshire"))


@pytest.fixture
def trust_b(db):
    return TrustFactory(ods_code="RBB", name="Eastbrook Mental Health",
                        region=RegionFactory(code="Y56", name="London"))


@pytest.fixture
def ward_a(trust_a):
    division = UnitFactory(trust=trust_a, name="Medicine", kind="division")
    return UnitFactory(trust=trust_a, name="Ward 7", kind="ward", parent=division)


def _member(trust, role, **kwargs):
    return MembershipFactory(trust=trust, role=role, **kwargs).user


@pytest.fixture
def alice(trust_a):
    return _member(trust_a, Membership.Role.CLINICIAN, user__full_name="Alice Clinician")


@pytest.fixture
def quentin(trust_a):
    return _member(trust_a, Membership.Role.QI_LEAD, user__full_name="Quentin QI Lead")


@pytest.fixture
def bob(trust_a):
    return _member(trust_a, Membership.Role.BOARD_MEMBER, user__full_name="Bob Board")


@pytest.fixture
def tara(trust_a):
    return _member(trust_a, Membership.Role.TRUST_ADMIN, user__full_name="Tara Admin")


@pytest.fixture
def charlie(trust_b):
    return _member(trust_b, Membership.Role.CLINICIAN, user__full_name="Charlie Outsider")


@pytest.fixture
def nadia(db):
    return UserFactory(full_name="Nadia National", is_national_analyst=True)


@pytest.fixture
def stranger(db):
    return UserFactory(full_name="Sam Stranger")


@pytest.fixture
def personas(alice, quentin, bob, tara, charlie, nadia, stranger):
    return {
        "alice": alice,
        "quentin": quentin,
        "bob": bob,
        "tara": tara,
        "charlie": charlie,
        "nadia": nadia,
        "stranger": stranger,
    }
