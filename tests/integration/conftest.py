"""Integration tests run only on real services: PostgreSQL, Redis and a live Celery worker.

`make services-test` (and CI) start the worker and set QI_EXPECT_WORKER=1, which turns a
missing worker into a failure instead of a skip.
"""

import os

import pytest
from django.conf import settings
from django.db import connection


def _worker_alive() -> bool:
    from qi_portal.celery import app

    try:
        return bool(app.control.ping(timeout=3))
    except Exception:  # noqa: BLE001 — broker unreachable means no worker
        return False


@pytest.fixture(scope="session")
def live_worker():
    reasons = []
    if connection.vendor != "postgresql":
        reasons.append("DATABASE_URL is not PostgreSQL")
    if not settings.REDIS_URL:
        reasons.append("REDIS_URL is not set")
    if not reasons and not _worker_alive():
        reasons.append("no Celery worker answered a ping")
    if reasons:
        message = "integration tests need real services: " + "; ".join(reasons)
        if os.environ.get("QI_EXPECT_WORKER"):
            pytest.fail(message)
        pytest.skip(message)
    return True
