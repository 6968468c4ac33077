"""The transactions' btree on (institution, employee, day) goes; a BRIN index on (institution, day)
takes its place on PostgreSQL (issue 15, docs/performance.md).

Maintaining that btree was most of a load's cost: rows arrive in random employee and time order, so
each one lands on a random leaf (a COPY of a million rows took 3.4 s into a table with that index
alone against 0.9 s bare and 1.0 s with the BRIN index). Nothing reads it in that order any more: a
screening reads an institution's rows in page order through a bitmap and sorts them in memory
(risk.services.rule_rows), and an upload writes its rows together, so a BRIN index of 32-page ranges
finds one institution's (and one month's) pages almost exactly. The unique (institution, txn_id)
btree still serves idempotent loading and deleting an institution's rows. Pages a load appends are
summarized right after it commits (risk.services.summarize_new_pages), and by autovacuum anyway.
"""

from django.db import migrations


def brin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE INDEX risk_txn_inst_day_brin ON risk_transaction "
                              "USING brin (institution_id, occurred_on) WITH (pages_per_range = 32, autosummarize = on)")


def drop_brin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS risk_txn_inst_day_brin")


class Migration(migrations.Migration):

    dependencies = [
        ("risk", "0002_lean_load_indexes"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="transaction", name="risk_txn_emp_day"),
        migrations.RunPython(brin_index, drop_brin_index),
    ]
