"""Roll-up marks written by the database (issue 20 item 2).

A trigger on every table a roll-up counts inserts the trust's `RollupMark`, so a write
through `QuerySet.update`, `bulk_create` or raw SQL, which sends no Django signal, still
marks the trust's roll-ups out of date. On PostgreSQL one statement-level trigger per table
and event, over transition tables (a bulk write of 10,000 rows costs one INSERT … SELECT
DISTINCT); on SQLite row triggers. Installed after every `migrate` (`install`, connected
to post_migrate by ReportsConfig), not in a migration: SQLite rebuilds a table to alter
it, which drops its triggers, so they are put back each time (drop-if-exists, create).
The marks are read by reports.rollups (claim, trusts_behind) and the dashboard page.
"""

from __future__ import annotations

from django.db.models.signals import post_migrate

# (table, the trust of a row "{row}" in SQL). Every event of each table except where
# EVENTS says otherwise.
SOURCES = [
    ("projects_project", "{row}.trust_id"),
    ("organisations_unit", "{row}.trust_id"),
    ("projects_progressscore",
     "(SELECT p.trust_id FROM projects_project p WHERE p.id = {row}.project_id)"),
    ("measures_measure",
     "(SELECT p.trust_id FROM projects_project p WHERE p.id = {row}.project_id)"),
    ("pdsa_cycle",
     "(SELECT p.trust_id FROM projects_changeidea ci JOIN projects_project p "
     "ON p.id = ci.project_id WHERE ci.id = {row}.change_idea_id)"),
]
# measures_measure: only added and removed measures change what a roll-up counts; every
# data write updates the measure row, and stored snapshots ask for the build themselves.
EVENTS = {"measures_measure": ("INSERT", "DELETE")}
ALL_EVENTS = ("INSERT", "UPDATE", "DELETE")


def _pg(table, trust_sql, events) -> list[str]:
    fn = f"reports_mark_{table}"

    def pick(alias):
        return (f"INSERT INTO reports_rollupmark (trust_id, wanted_since) "
                f"SELECT t.trust_id, now() FROM (SELECT DISTINCT {trust_sql.format(row='r')} "
                f"AS trust_id FROM {alias} r) t WHERE t.trust_id IS NOT NULL ORDER BY 1 "
                f"ON CONFLICT (trust_id) DO NOTHING;")

    sql = [f"""CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {pick("new_rows")}
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {pick("old_rows")}
  END IF;
  RETURN NULL;
END $$;"""]
    for event in events:
        ref = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
               "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows"}[event]
        name = f"{fn}_{event.lower()}"
        sql.append(f"DROP TRIGGER IF EXISTS {name} ON {table};")
        sql.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {ref} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}();")
    return sql


def _sqlite(table, trust_sql, events) -> list[str]:
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    sql = []
    for event in events:
        rows = {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["NEW", "OLD"]}[event]
        body = " ".join(
            f"INSERT OR IGNORE INTO reports_rollupmark (trust_id, wanted_since) "
            f"SELECT t, {now} FROM (SELECT {trust_sql.format(row=row)} AS t) "
            f"WHERE t IS NOT NULL;"
            for row in rows)
        name = f"reports_mark_{table}_{event.lower()}"
        sql.append(f"DROP TRIGGER IF EXISTS {name};")
        sql.append(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END;")
    return sql


def trigger_names() -> list[str]:
    return [f"reports_mark_{table}_{event.lower()}" for table, _ in SOURCES
            for event in EVENTS.get(table, ALL_EVENTS)]


def install(connection) -> None:
    """Create (or re-create) every roll-up trigger on this connection's database."""
    build = {"postgresql": _pg, "sqlite": _sqlite}.get(connection.vendor)
    if build is None:
        return  # another database: the signals and reconcile still ask for builds
    tables = set(connection.introspection.table_names())
    if "reports_rollupmark" not in tables:
        return  # migrated only part of the way
    with connection.cursor() as cursor:
        for table, trust_sql in SOURCES:
            if table not in tables:
                continue
            for statement in build(table, trust_sql, EVENTS.get(table, ALL_EVENTS)):
                cursor.execute(statement)


def _after_migrate(sender, using, **kwargs):
    from django.db import connections

    install(connections[using])


def connect() -> None:
    post_migrate.connect(_after_migrate, dispatch_uid="reports.rollup_triggers")
