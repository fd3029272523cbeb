"""Load the demo data: fictional trusts, one user per role, and each app's demo content.

Idempotent: running it again changes nothing that is already there.
"""

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo content provides demo.seed(context) -> dict; order matters.
DEMO_MODULES = [
    "organisations.demo",
    "projects.demo",
    "projects.measure_demo",
    "pdsa.demo",
    "collaboratives.demo",
]


class Command(BaseCommand):
    help = "Create demo trusts, users and content for trying the portal locally (idempotent)."

    def handle(self, *args, **options):
        context: dict = {}
        with transaction.atomic():
            for name in DEMO_MODULES:
                try:
                    module = importlib.import_module(name)
                except ModuleNotFoundError as exc:
                    if exc.name != name:
                        raise
                    continue
                result = module.seed(context) if name != "organisations.demo" else module.seed()
                context.update(result or {})
        from organisations.demo import DEMO_PASSWORD, PEOPLE

        self.stdout.write(self.style.SUCCESS("Demo data is ready. Sign in with any of these:"))
        for email, _name, _title, roles, national, superuser in PEOPLE:
            what = (
                "national-centre analyst"
                if national
                else "administrator (Django admin)"
                if superuser
                else ", ".join(f"{role.label} at {ods}" for ods, role in roles)
            )
            self.stdout.write(f"  {email:<38} {what}")
        self.stdout.write(f"  Password for every demo account: {DEMO_PASSWORD}  (local use only)")
