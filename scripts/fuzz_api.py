"""Fuzz the API with schemathesis against its own OpenAPI schema, on a live server.

    .venv/bin/python scripts/fuzz_api.py [--examples N] [--database-url URL]

Migrates and seeds a fresh database (a temporary SQLite file unless --database-url names an
empty PostgreSQL database), starts gunicorn on a free loopback port, makes API tokens for
the demo clinician and for an outsider (an account with no trust role), and runs
`schemathesis run --checks all` once per token. Exits non-zero on any failure: a 5xx, a
response that breaks the schema, an undocumented status code, ... Used by `.ci/run`.
Tokens live only in this process and the temporary database; they are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PYTHON = str(BIN / "python") if (BIN / "python").exists() else sys.executable
CONFIG = ROOT / "scripts" / "fuzz_api.toml"

MAKE_TOKENS = """
import json
from organisations import services
from organisations.demo import PEOPLE
from organisations.models import User

clinician = User.objects.get(email=PEOPLE[0][0])
outsider, _ = User.objects.get_or_create(
    email="outsider.fuzz@example.org", defaults={"full_name": "Otto Outsider"})
secrets = {who: services.api_token_create(by=user, name="schemathesis", expires_in_days=1)[1]
           for who, user in (("clinician", clinician), ("outsider", outsider))}
print(json.dumps(secrets))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args, capture=False):
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True,
                            text=True, stdout=subprocess.PIPE if capture else None)
    return result.stdout


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310 — loopback
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"The portal did not answer at {url} within {seconds:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 12)),
                        help="Most test cases per operation and token (default 12).")
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL", ""))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", 15)))
    options = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="qi-fuzz-"))
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update({
        "DATABASE_URL": options.database_url or f"sqlite:///{workdir / 'fuzz.sqlite3'}",
        "DEBUG": "false",
        "SECRET_KEY": "fuzz-only-" + os.urandom(32).hex(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        # The fuzzer is one client sending many requests: throttling would hide the API.
        "API_USER_RATE": "100000/min",
        "API_ANON_RATE": "100000/min",
        "LOG_LEVEL": "ERROR",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    print("== fuzz: migrate and seed the demo data", flush=True)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    manage(env, "collectstatic", "--noinput", "-v", "0")  # DEBUG off: the manifest storage
    secrets = json.loads(manage(env, "shell", "-c", MAKE_TOKENS, capture=True).strip()
                         .splitlines()[-1])

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "qi_portal.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "2", "--timeout", "60", "--log-level", "warning",
         # The fuzzer sends very long query strings: let Django answer them, not gunicorn.
         "--limit-request-line", "0", "--limit-request-field_size", "0"],
        cwd=ROOT, env=env,
    )
    status = 0
    try:
        wait_for(f"{base}/healthz")
        for who in ("clinician", "outsider"):
            print(f"== fuzz: schemathesis as the {who}", flush=True)
            report = workdir / f"junit-{who}.xml"
            command = [
                str(BIN / "schemathesis"), "--config-file", str(CONFIG),
                "run", f"{base}/api/schema/?format=json",
                "--checks", "all",
                "--max-examples", str(options.examples),
                "--seed", str(options.seed),
                # One worker thread: hypothesis describes filters by parsing their source
                # with ast.parse, which is not thread-safe on CPython 3.11 ("AST constructor
                # recursion depth mismatch" stopped 2 operations in 1 CI run of 3).
                "--workers", "1",
                "--request-timeout", "30",
                "--generation-database", "none",
                "--no-color",
                "--report", "junit", "--report-junit-path", str(report),
                "--header", f"Authorization: Bearer {secrets[who]}",
            ]
            started = time.monotonic()
            code = subprocess.run(command, cwd=workdir, env=env).returncode
            print(f"== fuzz: {who} finished in {time.monotonic() - started:.0f} s "
                  f"(exit {code})", flush=True)
            status = status or code
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        if status == 0:  # keep the JUnit reports of a failed run for a look
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"== fuzz: reports in {workdir}", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
