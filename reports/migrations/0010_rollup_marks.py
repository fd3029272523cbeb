"""The roll-up marks (issue 20 item 2). Their triggers are installed after every migrate
by reports.db_triggers (SQLite drops a table's triggers when a migration rebuilds it)."""

from django.db import migrations, models


def install_triggers(apps, schema_editor):
    from reports import db_triggers

    db_triggers.install(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0009_measure_rate_from_national"),
        ("projects", "0006_project_search_gin_indexes"),
        ("pdsa", "0001_initial"),
        ("organisations", "0006_capability_and_impact"),
        ("measures", "0010_measure_rate_per"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupMark",
            fields=[
                ("trust_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("wanted_since", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(install_triggers, migrations.RunPython.noop),
    ]
