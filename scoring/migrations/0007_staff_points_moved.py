"""Employees' clean points moved to the `staff_points` app (issue #10).

State only: the models leave scoring's state and `staff_points.0001_initial` takes them over with the
same tables (`scoring_violationtype`, `scoring_pointrecord`, `scoring_blacklistentry`,
`scoring_portraitview`, `scoring_exemplar`), so no table, row or constraint changes.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("scoring", "0006_district_years_final"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # Dependents first: a blacklist entry refers to its record, a record to its type.
                migrations.DeleteModel(name="BlacklistEntry"),
                migrations.DeleteModel(name="Exemplar"),
                migrations.DeleteModel(name="PortraitView"),
                migrations.DeleteModel(name="PointRecord"),
                migrations.DeleteModel(name="ViolationType"),
            ],
            database_operations=[],
        ),
    ]
