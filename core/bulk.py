"""Writing each of many rows its own values in one statement.

Django's `bulk_update` builds one `CASE WHEN pk = … THEN …` expression per field, with a branch per row:
for a few dozen rows and half a dozen fields that expression, resolved and compiled in Python, costs
more than the statement (an aggregation batch spent a sixth of its time there, issue 16). On PostgreSQL
`update_each` hands every field's values over as one typed array and lets the server pair them up
(`UPDATE … FROM unnest(…)`); elsewhere it is `bulk_update`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import Model

_SIZE = re.compile(r"\(\d+(,\s*\d+)?\)")


def update_each(model: type[Model], objs: Iterable[Model], fields: Sequence[str]) -> int:
    """Writes `fields` (concrete, non-primary-key fields; a foreign key by its name) of each object to
    its row, one statement on PostgreSQL; returns the number of rows updated.

    Narrower than `bulk_update`: plain values only (no expressions), objects of distinct rows (with a
    primary key twice, which one wins is not defined), the default database."""
    objs = list(objs)
    if not objs:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql":
        return model.objects.bulk_update(objs, list(fields), batch_size=500)
    pk = meta.pk
    arrays = [[pk.get_db_prep_value(obj.pk, connection) for obj in objs]]
    types = [pk.rel_db_type(connection)]
    for column in columns:
        arrays.append([column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objs])
        # The array of the base type (varchar, not varchar(20)): a cast to the sized type would cut an
        # over-long value silently, where the assignment to the column refuses it as `bulk_update` does.
        types.append(_SIZE.sub("", column.db_type(connection)))
    names = ["pk_", *(column.column for column in columns)]
    quote = connection.ops.quote_name
    sets = ", ".join(f"{quote(column.column)} = v.{quote(column.column)}" for column in columns)
    unnest = ", ".join(f"%s::{db_type}[]" for db_type in types)
    # Table, column and type names come from the model's meta; the values are parameters.
    sql = (f"UPDATE {quote(meta.db_table)} t SET {sets}"  # noqa: S608
           f" FROM unnest({unnest}) AS v({', '.join(quote(name) for name in names)})"
           f" WHERE t.{quote(pk.column)} = v.{quote('pk_')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount


def refresh_statistics(model: type[Model]) -> None:
    """PostgreSQL: `ANALYZE` the model's table, after a bulk insert that may have grown it many times
    over. Until autovacuum gets to it the planner trusts the old figures, and a table it believes
    empty is read by sequential scans, including by the foreign-key checks of rows that point to it
    (each a scan of the whole table, a plan kept for the session). Elsewhere nothing. Allowed inside
    a transaction; a database user who does not own the table gets a warning, not an error."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


_FOREIGN_KEYS: dict[str, tuple[str, ...]] = {}


def foreign_key_checks(cursor, model: type[Model], *, immediate: bool) -> None:
    """PostgreSQL: the model's foreign keys checked at the end of each statement (`immediate`) or at
    commit again, as Django declares them (DEFERRABLE INITIALLY DEFERRED); for the rest of the
    transaction (or until a savepoint around it is rolled back). Elsewhere nothing.

    Checked per statement, a bulk insert's checks run while the process goes on with something else
    (issue 16), or at least not as one queue of hundreds of thousands of deferred checks at commit
    (which cost about as much again as the insert, docs/warnings.md). `cursor`: the cursor of the
    connection to set (its `db`), which may be another thread's (core.overlap)."""
    sql = foreign_key_checks_sql(cursor, model, immediate=immediate)
    if sql:
        cursor.execute(sql)


def foreign_key_checks_sql(cursor, model: type[Model], *, immediate: bool) -> str:
    """The statement of `foreign_key_checks` (empty where there is nothing to set), for a caller that
    sends it together with others in one round trip."""
    db = cursor.db
    if db.vendor != "postgresql":
        return ""
    table = model._meta.db_table
    names = _FOREIGN_KEYS.get(table)
    if names is None:
        constraints = db.introspection.get_constraints(cursor, table)
        names = _FOREIGN_KEYS[table] = tuple(sorted(name for name, info in constraints.items()
                                                     if info["foreign_key"]))
    if not names:
        return ""
    return f"SET CONSTRAINTS {', '.join(map(db.ops.quote_name, names))} {'IMMEDIATE' if immediate else 'DEFERRED'}"


__all__ = ["foreign_key_checks", "foreign_key_checks_sql", "refresh_statistics", "update_each"]
