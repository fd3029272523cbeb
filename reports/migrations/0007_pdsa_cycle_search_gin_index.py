"""The project search's PDSA text on PostgreSQL: a GIN expression index on each cycle's
objective, study and act text (a frozen copy of projects.selectors.CYCLE_DOCUMENT). It
lives here, not in pdsa, because the search that needs it spans projects and pdsa (the
reports layer sits above both). SQLite: nothing to do.
"""

from django.db import migrations

NAME = "pdsa_cycle_search_gin"
EXPRESSION = (
    "to_tsvector('english', coalesce(objective, '') || ' ' || coalesce(results, '') || ' ' "
    "|| coalesce(learning, '') || ' ' || coalesce(next_steps, ''))"
)


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = apps.get_model("pdsa", "Cycle")._meta.db_table
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON {table} USING gin (({EXPRESSION}))")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0006_learning_search_gin_index"),
        ("pdsa", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_index, drop_index),
    ]
