"""Scoring permissions of the role groups (admin access; scoping is done by services and selectors)."""

from django.db import migrations

from institutions.roles import grant_permissions

ALL = ("add", "change", "delete", "view")
MANAGED = ("norms", "normitem", "normclause", "scheme", "indicator", "assessment", "scoresheet", "sheetentry",
           "evidence", "assignment", "aggregationrun", "result", "objection", "schemeevent", "assessmentevent")


def perms(models, actions):
    return [f"{a}_{m}" for m in models for a in actions]


GRANTS = {
    "finance_center": perms(MANAGED, ALL),
    "inspector": perms(("norms", "scheme", "indicator"), ("view",)),
    "third_party": perms(("norms", "scheme", "indicator"), ("view",)),
    "institution_filer": perms(("norms", "scheme", "indicator", "result"), ("view",)),
    "institution_head": perms(("norms", "scheme", "indicator", "result"), ("view",)),
    "api_client": perms(("norms", "scheme", "indicator", "result"), ("view",)),
    "city": perms(("norms", "scheme", "indicator", "result"), ("view",)),
}


def apply(apps, schema_editor):
    grant_permissions(apps, "scoring", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial"), ("institutions", "0003_role_groups")]
    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
