"""The project list's unit box (issue 21) on PostgreSQL: a GIN trigram index on a unit's
upper-cased name, the expression Django writes for `name__iexact` and `name__icontains`
(`UPPER("organisations_unit"."name"::text)`), so typing a ward's name reads the matching
units of 9,000 rather than every one. SQLite cannot build it; there this does nothing.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "unit_name_upper_trgm"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON organisations_unit "
        "USING gin ((UPPER(name::text)) gin_trgm_ops)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ("organisations", "0006_capability_and_impact"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(add_index, drop_index),
    ]
