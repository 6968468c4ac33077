"""The institution's own index on assessments and results dropped: the unique (institution, year) of each
serves every lookup by institution, and every index more is written again by each result an aggregation
writes and each assessment whose state it changes (issue 16).

Only the index is dropped (reversed: created again); the foreign keys stay as they are. Django's own
AlterField would drop and add each foreign key again, validating every row under a lock of the table."""

import django.db.models.deletion
from django.db import migrations, models

_INDEXES = (("scoring_assessment", "scoring_assessment_institution_id_52f0dbc0"),
            ("scoring_result", "scoring_result_institution_id_ca986713"))


class Migration(migrations.Migration):

    dependencies = [
        ('institutions', '0007_district_publish_blacklist'),
        ('scoring', '0018_item_cents_in_results'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='assessment',
                    name='institution',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name='assessments', to='institutions.institution',
                                            verbose_name='机构'),
                ),
                migrations.AlterField(
                    model_name='result',
                    name='institution',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                            related_name='results', to='institutions.institution',
                                            verbose_name='机构'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("institution_id")')
                for table, index in _INDEXES
            ],
        ),
    ]
