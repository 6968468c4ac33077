"""Count every write to these tables in core.ChangeCounter (core/changes.py): the version under which
the dashboards cache the figures read from them."""

from django.db import migrations

from core import changes

TABLES = (("complaints_complaint", "complaints.complaint"), ("complaints_satisfactiontally", "complaints.satisfactiontally"))


class Migration(migrations.Migration):

    dependencies = [
        ("complaints", "0009_referral_as_tracked_item"),
        ("core", "0004_change_counter"),
    ]

    operations = [
        migrations.RunPython(changes.installer(*TABLES), changes.remover(*TABLES)),
    ]
