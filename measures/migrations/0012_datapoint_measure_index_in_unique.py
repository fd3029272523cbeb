from django.db import migrations, models

# The points' foreign key loses its own index: the unique (measure, period) index leads
# with the measure and serves every lookup by measure. With both, PostgreSQL read a
# rebuild chunk's points through the one-column index and sorted them by period, twice
# the time of reading them in order from the unique index (issue 21). Only the index is
# dropped (the same SQL on SQLite and PostgreSQL): Django's own AlterField would also
# drop and re-validate the foreign key over every point.
INDEX = "measures_datapoint_measure_id_5778396b"


class Migration(migrations.Migration):

    dependencies = [
        ("measures", "0011_alter_datapoint_updated_at_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(
                f"DROP INDEX IF EXISTS {INDEX}",
                reverse_sql=f"CREATE INDEX IF NOT EXISTS {INDEX} ON measures_datapoint "
                            "(measure_id)")],
            state_operations=[migrations.AlterField(
                model_name="datapoint",
                name="measure",
                field=models.ForeignKey(db_index=False,
                                        on_delete=models.CASCADE,
                                        related_name="points", to="measures.measure"),
            )],
        ),
    ]
