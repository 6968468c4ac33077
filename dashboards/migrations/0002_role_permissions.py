"""Dashboards permissions of the role groups: the finance center requests and reads annual reports."""

from django.db import migrations

from institutions.roles import grant_permissions

GRANTS = {"finance_center": ["add_annualreport", "view_annualreport"]}


def apply(apps, schema_editor):
    grant_permissions(apps, "dashboards", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("dashboards", "0001_initial"), ("institutions", "0003_role_groups")]
    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
