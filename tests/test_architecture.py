"""The one-way layers of ADR 2, checked by import-linter (the contracts are in pyproject.toml).

No database: these run lint-imports, and a plain Python, in subprocesses.
"""

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACT_NAMES = {contract["id"]: contract["name"] for contract in CONFIG["contracts"]}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    assert LINT_IMPORTS.exists(), f"{LINT_IMPORTS} is missing: pip install -e '.[dev]'"
    # cwd is what lint-imports puts on sys.path; PYTHONPATH makes sure no other tree is found.
    # A wide console so that no line of the report wraps.
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "250"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_of_the_apps(tmp_path: Path) -> Path:
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def append_line(path: Path, line: str) -> None:
    text = path.read_text() if path.exists() else ""
    path.write_text(text + ("" if text.endswith("\n") or not text else "\n") + line + "\n")


def test_the_contracts_cover_every_app_and_keep_the_layer_order():
    # Our apps, in INSTALLED_APPS order (bottom layer first): a new app must join the layers.
    ours = [app for app in settings.INSTALLED_APPS if (REPO / app / "__init__.py").exists()]
    assert CONFIG["root_packages"] == ours
    assert set(CONTRACT_NAMES) == {"layers", "spc", "funnel", "funnel-chart"}
    layers = next(c for c in CONFIG["contracts"] if c["id"] == "layers")
    assert layers["layers"] == list(reversed(CONFIG["root_packages"]))


def test_the_tree_keeps_every_contract():
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACT_NAMES.values():
        assert f"{name} KEPT" in result.stdout, result.stdout


UPWARD_IMPORTS = [
    pytest.param(
        "projects/models.py",
        "from reports import views",
        "layers",
        "projects.models -> reports.views",
        id="projects-to-reports",
    ),
    pytest.param(
        "organisations/models.py",
        "from projects import models",
        "layers",
        "organisations.models -> projects.models",
        id="organisations-to-projects",
    ),
    pytest.param(
        "measures/models.py",
        "from pdsa import models",
        "layers",
        "measures.models -> pdsa.models",
        id="measures-to-pdsa",
    ),
    pytest.param(
        "core/forms.py",
        "from organisations import access",
        "layers",
        "core.forms -> organisations.access",
        id="core-to-organisations",
    ),
    pytest.param(
        "reports/spc/xmr.py",
        "import django",
        "spc",
        "reports.spc.xmr -> django",
        id="spc-to-django",
    ),
    pytest.param(
        "reports/spc/xmr.py",
        "from reports import models",
        "spc",
        "reports.spc.xmr -> reports.models",
        id="spc-to-reports-models",
    ),
]


@pytest.mark.parametrize(("module", "line", "contract", "reported"), UPWARD_IMPORTS)
def test_an_import_that_points_up_breaks_a_contract(tmp_path, module, line, contract, reported):
    tree = copy_of_the_apps(tmp_path)
    append_line(tree / module, f"{line}  # noqa")

    result = lint_imports(tree)

    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{CONTRACT_NAMES[contract]} BROKEN" in result.stdout, result.stdout
    assert reported in result.stdout, result.stdout


@pytest.mark.parametrize("line", ["from reports import spc", "from reports.spc import xmr"])
def test_any_app_may_import_the_spc_engine(tmp_path, line):
    """`from reports import spc` is an import of reports.spc (the floor), not of reports."""
    tree = copy_of_the_apps(tmp_path)
    append_line(tree / "projects" / "models.py", f"{line}  # noqa")

    result = lint_imports(tree)

    assert "projects.models ->" not in result.stdout, result.stdout


def test_the_spc_engine_imports_without_django():
    blocked = ["django", "rest_framework", "celery", "plotly"]
    code = (
        "import sys\n"
        f"for name in {blocked!r}:\n"
        "    sys.modules[name] = None\n"
        "from reports import spc\n"
        "from reports.spc import icons, reading\n"
        "result = spc.xmr([12, 15, 11, 14, 13, 16, 12, 15, 14, 13, 12, 15])\n"
        "print(result.variation_icon)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
