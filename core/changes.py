"""Change counters written by database triggers: a cheap, always-right version of a table's data.

An app that wants its data's figures cached declares, in one of its migrations,

    TABLES = (("complaints_complaint", "complaints.complaint"),)  # (table, counter name)
    migrations.RunPython(changes.installer(*TABLES), changes.remover(*TABLES))

and names its counters in its selectors (`change_counters()`); readers take `changes.counts` or
`changes.version` of them. The trigger (one per statement on PostgreSQL, per row on SQLite) upserts
the table's row of `core.ChangeCounter` inside the writing transaction, so no write path can forget
it: services, the admin, `QuerySet.update()`, `bulk_create`, `COPY`, raw SQL and TRUNCATE all count.
On PostgreSQL the new value comes from a sequence, so a rolled-back write never hands its number to a
later one (a figure computed inside the rolled-back transaction and cached under that number can
never be read again); SQLite (development and tests) adds one.

Readers see a counter move exactly when the change commits: under READ COMMITTED (Django's default,
ATOMIC_REQUESTS off), a figure computed after reading the counters is at least as new as they are,
so a cache keyed by them never serves an older figure. Not counted: writes with triggers disabled
(`session_replication_role = replica`, `pg_restore --disable-triggers`): clear the cache after those.
"""

from __future__ import annotations

TABLE = "core_changecounter"
SEQUENCE = "core_changecounter_seq"
FUNCTION = "core_count_change"


def _check(word: str) -> str:
    if not word.replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"not a plain name: {word!r}")
    return word


def create_function(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    schema_editor.execute(f"""
        CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {TABLE} (name, count) VALUES (TG_ARGV[0], nextval('{SEQUENCE}'))
            ON CONFLICT (name) DO UPDATE SET count = EXCLUDED.count;
            RETURN NULL;
        END $$""")  # noqa: S608 (constant names)


def drop_function(schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


def install(schema_editor, table: str, name: str) -> None:
    """Count every write to `table` under `name`."""
    table, name = _check(table), _check(name)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changes ON {table}")
        schema_editor.execute(f"CREATE TRIGGER {table}_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                              f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}('{name}')")
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        trigger = f"{table}_changes_{event.lower()}"
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        sql = (f"CREATE TRIGGER {trigger} AFTER {event} ON {table} BEGIN "  # noqa: S608 (names checked)
               f"INSERT INTO {TABLE} (name, count) VALUES ('{name}', 1) "
               f"ON CONFLICT (name) DO UPDATE SET count = count + 1; END")
        schema_editor.execute(sql)


def remove(schema_editor, table: str) -> None:
    table = _check(table)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changes ON {table}")
        return
    for event in ("insert", "update", "delete"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_changes_{event}")


def installer(*pairs: tuple[str, str]):
    """A RunPython function installing the triggers for these (table, counter name) pairs."""
    def run(apps, schema_editor) -> None:
        for table, name in pairs:
            install(schema_editor, table, name)
    return run


def remover(*pairs: tuple[str, str]):
    def run(apps, schema_editor) -> None:
        for table, _name in pairs:
            remove(schema_editor, table)
    return run


def counts(names) -> dict[str, int]:
    """The counters of these names (0 for a table never written since its trigger was installed), in
    one query."""
    from .models import ChangeCounter

    names = list(names)
    found = dict(ChangeCounter.objects.filter(name__in=names).values_list("name", "count"))
    return {name: found.get(name, 0) for name in names}


def version(*names: str) -> str:
    """The counters of these names as one string."""
    found = counts(names)
    return ".".join(str(found[name]) for name in names)
