"""The finance center sees (and may clear) the accounts still waiting for their first password change."""

from django.db import migrations

from institutions.roles import grant_permissions

GRANTS = {
    "finance_center": ["view_passwordchangerequired", "delete_passwordchangerequired"],
}


def apply(apps, schema_editor):
    grant_permissions(apps, "accounts", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("institutions", "0003_role_groups")]
    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
