"""Build the national activity and capability table and figures now (reports.national)."""

from django.core.management.base import BaseCommand

from reports import national


class Command(BaseCommand):
    help = ("Build the national activity and capability table, the capability figures per "
            "1,000 staff and the NHS IMPACT distribution (as the nightly task does).")

    def handle(self, *args, **options):
        self.stdout.write(f"Built the national figures for {national.build()} trust(s).")
