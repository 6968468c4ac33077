"""Count every write to these tables in core.ChangeCounter (core/changes.py): the version under which
the dashboards cache the figures read from them."""

from django.db import migrations

from core import changes

TABLES = (("scoring_pointrecord", "staff_points.pointrecord"),)


class Migration(migrations.Migration):

    dependencies = [
        ("staff_points", "0003_import_permission"),
        ("core", "0004_change_counter"),
    ]

    operations = [
        migrations.RunPython(changes.installer(*TABLES), changes.remover(*TABLES)),
    ]
