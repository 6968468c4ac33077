"""Complaint permissions for the role groups of DOMAIN.md (pages and API also check roles)."""

from django.db import migrations

from institutions.roles import grant_permissions

ALL = ["add", "change", "delete", "view"]


def perms(model, actions):
    return [f"{a}_{model}" for a in actions]


GRANTS = {
    "finance_center": (
        perms("complaint", ["view", "change"]) + perms("complaintevent", ["view"])
        + perms("complaintnote", ["add", "view"]) + perms("evidenceimage", ["view"]) + perms("piireveal", ["view"])
        + perms("notification", ["view"]) + perms("holidayyear", ALL) + perms("holidaydate", ALL)
        + perms("retiredpubliccode", ["view"]) + perms("institutionposter", ["view", "change"])
        + perms("questionnaire", ALL) + perms("question", ALL) + perms("surveybatch", ["add", "view"])
        + perms("surveyresponse", ["view"])
    ),
    "discipline": perms("complaint", ["view"]) + perms("complaintnote", ["add", "view"]),
    "institution_head": perms("complaint", ["view"]) + perms("complaintnote", ["add", "view"])
    + perms("surveybatch", ["add", "view"]),
    "institution_filer": perms("surveybatch", ["add", "view"]),
}


def apply(apps, schema_editor):
    grant_permissions(apps, "complaints", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0002_seed_holidays"), ("institutions", "0003_role_groups")]
    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
