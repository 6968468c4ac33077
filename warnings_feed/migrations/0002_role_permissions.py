"""Role permissions on warnings: the finance center publishes from the admin; everyone else uses the
pages and the API, whose rules live in services.py (heads publish to their own institution only)."""

from django.db import migrations

from institutions.roles import grant_permissions

ALL = ["add", "change", "delete", "view"]

# The grants on PasswordChangeRequired, first given here, moved with the model to accounts 0002.
GRANTS = {
    "finance_center": [f"{a}_warning" for a in ALL] + ["view_delivery"],
}


def apply(apps, schema_editor):
    grant_permissions(apps, "warnings_feed", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("warnings_feed", "0001_initial"), ("institutions", "0003_role_groups")]
    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
