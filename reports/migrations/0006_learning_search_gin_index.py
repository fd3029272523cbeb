"""The learning repository's GIN index on its weighted tsvector (PostgreSQL only).

SQLite cannot build a GIN index, so it is not in `LearningDocument.Meta.indexes`; on
SQLite this migration does nothing and core.search's fallback reads the text columns.
"""

from django.db import migrations

INDEX = "learning_doc_search_gin"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("reports", "LearningDocument")._meta.db_table)
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(INDEX)} ON {table} "
        f"USING gin (search_vector)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0005_learning_repository"),
    ]

    operations = [
        migrations.RunPython(add_index, drop_index),
    ]
