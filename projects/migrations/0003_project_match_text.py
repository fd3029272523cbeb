"""The duplicate warning's words (issue 9, item 4): `match_title` and `match_aim`, filled
for existing projects, with pg_trgm and a GIN trigram index on each on PostgreSQL.

On SQLite the extension and the indexes are skipped (the check scores a trust's projects in
Python there). The indexes are not in `Project.Meta.indexes` because SQLite cannot build
them; `makemigrations --check` does not see them, which is intended.
"""

import core.screening
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from projects.similarity import normalise

TRIGRAM_INDEXES = {
    "project_match_title_trgm": "match_title",
    "project_match_aim_trgm": "match_aim",
}


def fill_match_text(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    batch = []
    for project in Project.objects.only("pk", "title", "aim").iterator(chunk_size=2000):
        project.match_title = normalise(project.title)
        project.match_aim = normalise(project.aim)
        batch.append(project)
        if len(batch) >= 1000:
            Project.objects.bulk_update(batch, ["match_title", "match_aim"])
            batch = []
    if batch:
        Project.objects.bulk_update(batch, ["match_title", "match_aim"])


def _on_postgresql(schema_editor) -> bool:
    return schema_editor.connection.vendor == "postgresql"


def add_trigram_indexes(apps, schema_editor):
    if not _on_postgresql(schema_editor):
        return
    table = schema_editor.quote_name(apps.get_model("projects", "Project")._meta.db_table)
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(name)} ON {table} "
            f"USING gin ({schema_editor.quote_name(column)} gin_trgm_ops)"
        )


def drop_trigram_indexes(apps, schema_editor):
    if not _on_postgresql(schema_editor):
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0002_screen_free_text"),
    ]

    operations = [
        TrigramExtension(),
        *(
            migrations.AddField(
                model_name=model,
                name=name,
                field=models.TextField(
                    blank=True, editable=False,
                    validators=[core.screening.NoPatientIdentifiers()],
                ),
            )
            for model in ("historicalproject", "project")
            for name in ("match_aim", "match_title")
        ),
        migrations.RunPython(fill_match_text, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
