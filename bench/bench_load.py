"""Load benchmark: 50 users for 60 s on gunicorn against PostgreSQL, mixed reads and writes,
against /healthz under the same load in the same run (issue 13).

    make bench-load            # installs locust (the "bench" extra), then runs this
    .venv/bin/python bench/bench_load.py --users 50 --seconds 60

What it does:
1. Creates a fresh PostgreSQL database (`qi_bench`, on PG_URL_BASE, default
   postgres://postgres@127.0.0.1:5432), migrates it and loads the demo data.
2. Starts gunicorn (production settings, DEBUG off) on a free port, with Redis as the broker
   (database 15, flushed; no worker: the refresh tasks just queue, as when workers lag).
3. Phase 1, the baseline: the users GET /healthz only. Phase 2: the same users, each signed
   in as a demo account (signing in happens before the timed phase), do a mix of pages and
   API reads and 10% writes (data points through the API, with the session's CSRF token).
4. Prints throughput (requests/s), p50 and p95 per phase and for each kind of request, the
   mixed/healthz throughput ratio, and any error other than an expected conflict (409).
   Exit code 1 when there was an unexpected error.

Locust runs in this process (gevent) beside gunicorn on the same machine, so absolute
numbers depend on the machine; the ratio between the phases is the figure to compare.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import gevent
from locust import HttpUser, between, events, task
from locust.env import Environment

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEMO_PASSWORD = "Improve-2026"
DEMO_USERS = [
    "clinician@example.nhs.uk", "qilead@example.nhs.uk", "board@example.nhs.uk",
    "trustadmin@example.nhs.uk", "clinician.eastbrook@example.nhs.uk",
    "qilead.eastbrook@example.nhs.uk", "clinician.westmoor@example.nhs.uk",
    "national@example.nhs.uk",
]
WRITERS = {"clinician@example.nhs.uk", "qilead@example.nhs.uk",
           "clinician.eastbrook@example.nhs.uk", "qilead.eastbrook@example.nhs.uk"}
UNEXPECTED: list[str] = []
SIGNED_IN = {"n": 0}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(db_url: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": "redis://127.0.0.1:6379/15",
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "ERROR",  # 403/404 answers to personas are expected, not news
        "API_USER_RATE": "1000000/min",  # measure the portal, not its throttle
        "AXES_FAILURE_LIMIT": "1000",
    }


def prepare(db_url: str, base: str, name: str, env: dict) -> None:
    subprocess.run(["psql", f"{base}/postgres", "-q", "-v", "ON_ERROR_STOP=1",
                    "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
                    "-c", f"CREATE DATABASE {name}"], check=True)
    subprocess.run(["redis-cli", "-n", "15", "FLUSHDB"], check=True, capture_output=True)
    for cmd in (["migrate", "--noinput", "-v0"], ["seed_demo"], ["collectstatic", "--noinput",
                                                                  "-v0"]):
        subprocess.run([PYTHON, "manage.py", *cmd], cwd=REPO, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def ids(env: dict) -> dict:
    """Objects for the users to visit: every demo project and measure."""
    code = (
        "import django,json;django.setup();"
        "from measures.models import Measure;"
        "print(json.dumps([[m.project_id,m.pk] for m in Measure.objects.all()]))"
    )
    out = subprocess.run([PYTHON, "-c", code], cwd=REPO, env={
        **env, "DJANGO_SETTINGS_MODULE": "qi_portal.settings"}, check=True,
        capture_output=True, text=True).stdout
    import json

    return {"measures": json.loads(out.strip().splitlines()[-1])}


class Healthz(HttpUser):
    wait_time = between(0.0, 0.05)

    @task
    def healthz(self):
        self.client.get("/healthz", name="healthz")


class Mixed(HttpUser):
    """A person using the portal: pages and API reads, one write in ten."""

    wait_time = between(0.0, 0.05)
    targets: dict = {}

    def on_start(self):
        email = self.email = random.choice(DEMO_USERS)
        page = self.client.get("/accounts/sign-in/", name="(sign-in form)")
        self._plain_http_cookies()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        self.client.post("/accounts/sign-in/", name="(sign-in)", data={
            "username": email, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token,
        }, headers={"Referer": self.host + "/accounts/sign-in/"})
        self._plain_http_cookies()
        self.csrf = self.client.cookies.get("csrftoken", "")
        SIGNED_IN["n"] += 1

    def _plain_http_cookies(self):
        # Production settings mark cookies Secure; this benchmark speaks plain HTTP on
        # loopback, so let the client send them back anyway.
        for cookie in self.client.cookies:
            cookie.secure = False

    def _measure(self):
        return random.choice(self.targets["measures"])

    @task(3)
    def project_list(self):
        self.client.get("/projects/", name="page: project list")

    @task(3)
    def project_page(self):
        project, _ = self._measure()
        self._get(f"/projects/{project}/", "page: project")

    @task(3)
    def measure_page(self):
        project, measure = self._measure()
        self._get(f"/projects/{project}/measures/{measure}/", "page: measure")

    @task(2)
    def trust_dashboard(self):
        self._get("/trusts/ZNT/", "page: trust dashboard")

    @task(3)
    def api_projects(self):
        self.client.get("/api/v1/projects/", name="api: projects")

    @task(2)
    def api_measures(self):
        self.client.get("/api/v1/measures/", name="api: measures")

    @task(2)
    def write_data_point(self):
        if self.email not in WRITERS:  # board members and analysts read
            return self.project_list()
        _, measure = self._measure()
        day = f"2027-{random.randint(1, 12):02d}-01"
        with self.client.post(
            f"/api/v1/measures/{measure}/data-points/", name="write: data point",
            json={"points": [{"period": day, "value": random.randint(1, 20),
                              "numerator": 5, "denominator": 10}]},
            headers={"X-CSRFToken": self.csrf, "Referer": self.host + "/"},
            catch_response=True,
        ) as response:
            # 400: a measure this person may see but not write, or of another kind (event
            # dates): expected answers of a real API, not failures of the portal.
            if response.status_code in (200, 201, 400, 403, 404, 409):
                response.success()

    def _get(self, path, name):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code in (200, 403, 404):  # not every persona sees everything
                response.success()


@events.request.add_listener
def _record(request_type, name, response, exception, **kwargs):
    if exception is not None or (response is not None and response.status_code >= 500):
        code = getattr(response, "status_code", "?")
        UNEXPECTED.append(f"{request_type} {name}: {code} {exception or ''}")


def run_phase(user_class, host, users, seconds):
    env = Environment(user_classes=[user_class], host=host)
    runner = env.create_local_runner()
    SIGNED_IN["n"] = 0
    runner.start(users, spawn_rate=users)
    # Ramp-up and signing in (a password hash each, by design slow) are not measured.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (
        user_class is Mixed and SIGNED_IN["n"] < users
    ):
        gevent.sleep(0.5)
    gevent.sleep(2)
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(seconds)
    elapsed = time.monotonic() - started
    runner.quit()
    return env.stats, elapsed


def report(title, stats, elapsed):
    total = stats.total
    rps = total.num_requests / elapsed
    print(f"\n== {title}: {total.num_requests} requests in {elapsed:.0f} s = {rps:.1f}/s, "
          f"p50 {total.get_response_time_percentile(0.5):.0f} ms, "
          f"p95 {total.get_response_time_percentile(0.95):.0f} ms, "
          f"failures {total.num_failures}")
    for key, entry in sorted(stats.entries.items()):
        if entry.num_requests:
            print(f"   {key[0]:>4} {key[1]:<28} n={entry.num_requests:<6} "
                  f"p50 {entry.get_response_time_percentile(0.5):>5.0f} ms  "
                  f"p95 {entry.get_response_time_percentile(0.95):>5.0f} ms")
    return rps, total.get_response_time_percentile(0.95)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()
    base = os.environ.get("PG_URL_BASE", "postgres://postgres@127.0.0.1:5432")
    name = "qi_bench"
    db_url = f"{base}/{name}"
    env = bench_env(db_url)
    print(f"Preparing {db_url} with the demo data…")
    prepare(db_url, base, name, env)
    Mixed.targets = ids(env)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(PYTHON).parent / "gunicorn"), "qi_portal.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", str(args.workers), "--timeout", "30", "--log-level", "warning"],
        cwd=REPO, env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        print(f"gunicorn: {args.workers} workers on {host}; {args.users} users, "
              f"{args.seconds} s a phase")
        base_rps, base_p95 = report("/healthz", *run_phase(Healthz, host, args.users,
                                                           args.seconds))
        mixed_rps, mixed_p95 = report("mixed pages, API and writes",
                                      *run_phase(Mixed, host, args.users, args.seconds))
        print(f"\nmixed / healthz throughput: {mixed_rps / base_rps:.2f}; "
              f"p95 {mixed_p95:.0f} ms vs {base_p95:.0f} ms")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        subprocess.run(["redis-cli", "-n", "15", "FLUSHDB"], capture_output=True)
    if UNEXPECTED:
        print(f"\n{len(UNEXPECTED)} unexpected errors, first ones:")
        for line in UNEXPECTED[:10]:
            print("  ", line)
        return 1
    print("No unexpected errors.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
