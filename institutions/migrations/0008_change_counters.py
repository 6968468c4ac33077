"""Count every write to these tables in core.ChangeCounter (core/changes.py): the version under which
the dashboards cache the figures read from them."""

from django.db import migrations

from core import changes

TABLES = (("institutions_institution", "institutions.institution"), ("institutions_employee", "institutions.employee"))


class Migration(migrations.Migration):

    dependencies = [
        ("institutions", "0007_district_publish_blacklist"),
        ("core", "0004_change_counter"),
    ]

    operations = [
        migrations.RunPython(changes.installer(*TABLES), changes.remover(*TABLES)),
    ]
