"""Project search (issue 14, item 4) on PostgreSQL: GIN expression indexes on a project's
weighted title/aim/problem and on change ideas' text. The expressions are frozen copies of
projects.selectors.PROJECT_DOCUMENT and IDEA_DOCUMENT: the queries must use the same ones.
SQLite cannot build them; there this does nothing (core.search's fallback reads the text).
"""

from django.db import migrations

INDEXES = {
    "project_search_gin": (
        "projects_project",
        "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
        "setweight(to_tsvector('english', coalesce(aim, '')), 'B') || "
        "setweight(to_tsvector('english', coalesce(problem, '')), 'C')",
    ),
    "change_idea_search_gin": (
        "projects_changeidea", "to_tsvector('english', coalesce(text, ''))"),
}


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}))")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0005_projects_updated_at_for_sync"),
    ]

    operations = [
        migrations.RunPython(add_indexes, drop_indexes),
    ]
