"""Demo data for the national centre's pages (capability returns, NHS IMPACT self-assessments,
national measure definitions, case studies, sharing choices), built on the other apps' demo.

Each part is a function below, called from `seed`; idempotent like every app's demo.
"""

from __future__ import annotations

# Each helper function takes the context built by the lower apps' demo modules.
PARTS: list = []


def seed(context: dict) -> dict:
    out: dict = {}
    for part in PARTS:
        out.update(part(context) or {})
    return out
