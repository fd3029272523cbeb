"""The project's search document stored (issue 21), on PostgreSQL only: a generated column
`search_document` holding PROJECT_DOCUMENT (the frozen copy in 0006), so the national
project list's search ranks from it instead of re-running to_tsvector over the title, aim
and problem of every matching project (about 115 ms for 4,683 matches of "falls" at
national scale). PostgreSQL keeps it right on every insert and update, bulk and COPY
included. Django does not know the column (no model field): it is read only by
projects.selectors._search. SQLite has no tsvector; there this does nothing.
"""

from django.db import migrations

DOCUMENT = (
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(aim, '')), 'B') || "
    "setweight(to_tsvector('english', coalesce(problem, '')), 'C')"
)


def add_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE projects_project ADD COLUMN IF NOT EXISTS search_document tsvector "
        f"GENERATED ALWAYS AS ({DOCUMENT}) STORED")


def drop_column(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE projects_project DROP COLUMN IF EXISTS search_document")


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0006_project_search_gin_indexes"),
    ]

    operations = [
        migrations.RunPython(add_column, drop_column),
    ]
