"""Build the dashboards' roll-ups now, for the past months too (from history)."""

from django.core.management.base import BaseCommand, CommandError

from organisations.models import Trust
from reports import rollups


class Command(BaseCommand):
    help = ("Build the monthly roll-ups of every trust (or one, --trust ODS) for the last "
            "--months months (default 12), from history. Measure icons are known only for "
            "this month.")

    def add_arguments(self, parser):
        parser.add_argument("--trust", help="ODS code of one trust")
        parser.add_argument("--months", type=int, default=12)

    def handle(self, *args, trust=None, months=12, **options):
        if months < 1:
            raise CommandError("--months must be 1 or more.")
        if trust:
            found = Trust.objects.filter(ods_code=trust.upper()).values_list("pk", flat=True)
            if not found:
                raise CommandError(f"No trust with ODS code {trust}.")
            ids = list(found)
        else:
            ids = rollups.trusts_with_projects()
        rows = sum(rollups.build(tid, months=months) for tid in ids)
        self.stdout.write(f"Built {rows} roll-ups for {len(ids)} trust(s).")
