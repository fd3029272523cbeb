"""The learning search reads only the rows its reader may see (issue 21).

Before: a search found every matching row through the GIN index (68,000 for "falls" at
national scale), read each from the table and only then dropped the ~60 % that were not
shared. Now each arm of the visibility rule (organisations.access.learning_visible_to) has
an index, so PostgreSQL finds the rows as a BitmapOr of:

- shared rows matching the query: a partial GIN index `WHERE shared` (PostgreSQL only, like
  0006: SQLite cannot build a GIN index);
- the reader's own trust's rows: a btree on `trust_id`;
- collaborative rows: a partial btree on `collaborative_id` for the two collaborative kinds.

The GIN index of every row (0006) is dropped: no search reads it any more, and each insert
of the rebuild paid to keep it.

The vector is written with the row by a BEFORE INSERT OR UPDATE trigger (PostgreSQL's own
recipe for a stored tsvector), no longer by an UPDATE after each batch: that wrote every
row twice and left a dead copy of each, doubling the table a search reads until vacuum.
"""

from django.db import migrations, models

INDEX = "learning_doc_shared_search_gin"
EVERY_ROW = "learning_doc_search_gin"  # 0006
FUNCTION = "reports_learningdocument_vector"
TRIGGER = "reports_learningdocument_vector_trigger"


def _table(apps, schema_editor) -> str:
    return schema_editor.quote_name(apps.get_model("reports", "LearningDocument")._meta.db_table)


def _gin(schema_editor, table: str, name: str, where: str = "") -> None:
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON {table} "
        f"USING gin (search_vector){where}"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = _table(apps, schema_editor)
    _gin(schema_editor, table, INDEX, " WHERE shared")
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(EVERY_ROW)}")
    schema_editor.execute(f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.search_vector :=
                setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
                || setweight(to_tsvector('english', coalesce(NEW.body, '')), 'B')
                || setweight(to_tsvector('english', coalesce(NEW.context, '')), 'C');
            RETURN NEW;
        END
        $$""")
    schema_editor.execute(
        f"CREATE TRIGGER {TRIGGER} BEFORE INSERT OR UPDATE OF title, body, context "
        f"ON {table} FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = _table(apps, schema_editor)
    _gin(schema_editor, table, EVERY_ROW)
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0010_rollup_marks"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="learningdocument",
            index=models.Index(fields=["trust_id"], name="learning_doc_trust_idx"),
        ),
        migrations.AddIndex(
            model_name="learningdocument",
            index=models.Index(condition=models.Q(("kind__in", ["post", "package_idea"])),
                               fields=["collaborative_id"],
                               name="learning_doc_collab_kind_idx"),
        ),
        migrations.RunPython(forwards, backwards),
    ]
