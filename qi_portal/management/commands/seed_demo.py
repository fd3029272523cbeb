"""Load the demo data: fictional trusts, one user per role, and each app's demo content.

Idempotent: running it again changes nothing that is already there.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from collaboratives import demo as collaboratives_demo
from measures import demo as measures_demo
from organisations import demo as organisations_demo
from organisations.demo import DEMO_PASSWORD, PEOPLE
from pdsa import demo as pdsa_demo
from projects import demo as projects_demo
from reports import demo as reports_demo
from reports import demo_history

# Each app's demo.seed(context) -> dict, bottom layer first: each builds on the one before.
DEMO_MODULES = [projects_demo, measures_demo, pdsa_demo, collaboratives_demo, reports_demo]


class Command(BaseCommand):
    help = "Create demo trusts, users and content for trying the portal locally (idempotent)."

    def handle(self, *args, **options):
        with transaction.atomic():
            context: dict = dict(organisations_demo.seed() or {})
            for module in DEMO_MODULES:
                context.update(module.seed(context) or {})
            # Every row was made today: date each to when the demo's story says (two years).
            demo_history.backdate()
        # The dashboards' board summary and trends, filled from the demo's two years.
        call_command("build_rollups", "--months", "24", verbosity=0)
        # The national activity table reads the roll-ups: build it again now they exist.
        call_command("build_national_activity", verbosity=0)

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
