"""Loading a million transactions spends most of its time maintaining indexes and checking the
institution of every row (issue 15, the load benchmark in docs/performance.md). What goes:

- the institution foreign key's own btree on the three loaded tables: the composite indexes
  (institution, employee, day / counterparty) and the unique (institution, txn_id) lead with it;
- the btree on `loaded_at`, read only by the nightly retention purge: rows are appended in load
  order, so a BRIN index (a few pages, next to no cost per row) serves the purge's range on
  PostgreSQL; other databases (SQLite, development) scan;
- the database's foreign-key constraint from the three loaded tables to the institution: it fired one
  check per row at commit (about 14 s per million rows on the development machine). Every write goes
  through risk.services, which holds the institution's row (FOR KEY SHARE, what the constraint's check
  did) for the whole load; deleting an institution still deletes its rows (Django's CASCADE).
"""

import django.db.models.deletion
from django.db import migrations, models

TABLES = ("risk_transaction", "risk_relationship", "risk_event")


def brin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"CREATE INDEX {table}_loaded_brin ON {table} USING brin (loaded_at)")


def drop_brin_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {table}_loaded_brin")


class Migration(migrations.Migration):

    dependencies = [
        ("risk", "0001_initial"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="transaction", name="risk_txn_loaded"),
        migrations.RemoveIndex(model_name="relationship", name="risk_rel_loaded"),
        migrations.RemoveIndex(model_name="event", name="risk_evt_loaded"),
        *(migrations.AlterField(
            model_name=model, name="institution",
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="institutions.institution", verbose_name="机构"),
        ) for model in ("transaction", "relationship", "event")),
        migrations.RunPython(brin_indexes, drop_brin_indexes),
    ]
