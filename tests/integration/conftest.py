"""Integration tests run only on real services: PostgreSQL, Redis and a live Celery worker.

`make services-test` (and CI) start the worker and set QI_EXPECT_WORKER=1, which turns a
missing worker into a failure instead of a skip.

The fault tests (test_faults.py) start and kill their own processes: a private
`redis-server` and Celery workers on it (`private_broker`, `worker_factory`), so killing
them never disturbs the shared worker the other tests use.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

CELERY = Path(sys.executable).with_name("celery")
PROJECT_DIR = Path(__file__).resolve().parents[2]


def _worker_alive() -> bool:
    from qi_portal.celery import app

    try:
        return bool(app.control.ping(timeout=3))
    except Exception:  # noqa: BLE001 — broker unreachable means no worker
        return False


def _service_reasons() -> list[str]:
    reasons = []
    if connection.vendor != "postgresql":
        reasons.append("DATABASE_URL is not PostgreSQL")
    if not settings.REDIS_URL:
        reasons.append("REDIS_URL is not set")
    return reasons


def _skip_or_fail(reasons: list[str]) -> None:
    if reasons:
        message = "integration tests need real services: " + "; ".join(reasons)
        if os.environ.get("QI_EXPECT_WORKER"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def live_worker():
    reasons = _service_reasons()
    if not reasons and not _worker_alive():
        reasons.append("no Celery worker answered a ping")
    _skip_or_fail(reasons)
    return True


@pytest.fixture(scope="session")
def fault_services():
    """PostgreSQL + Redis, and the programs the fault tests start themselves."""
    reasons = _service_reasons()
    if not shutil.which("redis-server"):
        reasons.append("redis-server is not installed")
    if not CELERY.exists():
        reasons.append(f"no celery program at {CELERY}")
    _skip_or_fail(reasons)
    return True


# ---- processes the fault tests own ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def _kill(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.kill()
    if proc is not None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover — SIGKILL does not wait
            pass


def child_pids(pid: int) -> list[int]:
    """Direct children of `pid`, from /proc (no psutil)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …" — comm may hold spaces or parentheses.
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return sorted(children)


class RedisServer:
    """A private redis-server without persistence: a restart starts empty, as after a crash."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2,
                           socket_connect_timeout=2)

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "redis is running already"
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def up():
            try:
                return self.client().ping()
            except Exception:  # noqa: BLE001 — not listening yet
                return False

        assert wait_for(up, 15, 0.05), f"redis-server did not start on port {self.port}"

    def kill(self) -> None:
        _kill(self.proc)


FAULT_WORKER_APP = "qi-fault-worker"


class Worker:
    """A Celery worker subprocess (prefork, one child) on the test database and a broker."""

    def __init__(self, broker_url: str, database_url: str, log_path: Path):
        self.name = f"faults-{uuid.uuid4().hex[:8]}@%h"
        self.log_path = log_path
        # PGAPPNAME names its PostgreSQL sessions, so the fault tests can tell its
        # transactions from the shared worker's (tests/integration/test_faults.py).
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": broker_url,
               "PYTHONDONTWRITEBYTECODE": "1", "PGAPPNAME": FAULT_WORKER_APP}
        env.pop("QI_EXPECT_WORKER", None)
        self._log = open(log_path, "ab")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            [str(CELERY), "-A", "qi_portal", "worker", "--loglevel=INFO", "-n", self.name,
             "-Q", "celery,bulk", "--pool=prefork", "--concurrency=1", "--without-heartbeat",
             "--without-gossip", "--without-mingle"],
            cwd=PROJECT_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed together at the end
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def hostname(self) -> str:
        return self.name.replace("%h", socket.gethostname())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> None:
        """Until the worker answers a control ping through the (private) broker."""
        from qi_portal.celery import app

        def answers():
            if self.proc.poll() is not None:
                raise AssertionError("worker exited:\n" + self.log()[-3000:])
            try:
                return bool(app.control.ping(destination=[self.hostname], timeout=1))
            except Exception:  # noqa: BLE001 — broker not there yet
                return False

        assert wait_for(answers, timeout, 0.5), "worker not ready:\n" + self.log()[-3000:]

    def children(self) -> list[int]:
        return child_pids(self.pid)

    def kill(self) -> None:
        """SIGKILL the main process and its pool children (whatever is left of them)."""
        pids = self.children() if self.proc.poll() is None else []
        _kill(self.proc)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # orphans of a killed main process
        except (ProcessLookupError, PermissionError):
            pass
        if not self._log.closed:
            self._log.close()


def worker_database_url() -> str:
    """The URL of the database this test runs in (pytest-django's test_<name>)."""
    d = connection.settings_dict
    auth = d["USER"] or "postgres"
    if d.get("PASSWORD"):
        auth += f":{d['PASSWORD']}"
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def _point_app_at(url: str) -> None:
    from qi_portal.celery import app

    # Drop the app's references only: kombu keeps its pools in a global registry keyed by
    # URL, so closing one here would hand the closed pool back when we return to that URL.
    app._pool = None
    app.amqp._producer_pool = None
    # The control mailbox (pings) caches the producer pool it first used: drop it too, or
    # later pings still go to the previous broker.
    app.control.mailbox.__dict__.pop("producer_pool", None)
    app.conf.broker_url = url


@pytest.fixture
def private_broker(fault_services, tmp_path):
    """A private redis-server; this process's Celery app publishes to it during the test."""
    from qi_portal.celery import app

    server = RedisServer(tmp_path)
    saved = (app.conf.broker_url, app.conf.task_always_eager)
    server.start()
    try:
        _point_app_at(server.url)
        app.conf.task_always_eager = False
        yield server
    finally:
        _point_app_at(saved[0])
        app.conf.task_always_eager = saved[1]
        server.kill()


@pytest.fixture
def worker_factory(private_broker, transactional_db, tmp_path):
    """Start Celery workers on the private broker and the test database; all are killed at
    the end, before the test database is flushed."""
    started: list[Worker] = []

    def start(ready: bool = True) -> Worker:
        worker = Worker(private_broker.url, worker_database_url(),
                        tmp_path / f"worker{len(started)}.log")
        started.append(worker)
        if ready:
            worker.wait_ready()
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.kill()
