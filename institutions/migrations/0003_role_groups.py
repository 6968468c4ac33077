"""The role groups of DOMAIN.md with their permissions on the registry."""

from django.db import migrations

from institutions.roles import grant_permissions

ALL = ["add", "change", "delete", "view"]


def perms(model, actions):
    return [f"{a}_{model}" for a in actions]


GRANTS = {
    "finance_center": perms("institution", ALL) + perms("employee", ALL) + perms("membership", ALL)
    + perms("district", ["view"]),
    "inspector": perms("institution", ["view"]),
    "third_party": perms("institution", ["view"]),
    "institution_filer": perms("institution", ["view"]) + perms("employee", ["add", "change", "view"]),
    "institution_head": perms("institution", ["view"]) + perms("employee", ["view"]),
    "discipline": perms("institution", ["view"]),
    "api_client": perms("institution", ["view"]),
    "city": perms("institution", ["view"]) + perms("district", ["view"]),
}


def apply(apps, schema_editor):
    grant_permissions(apps, "institutions", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("institutions", "0002_reference_districts"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(apply, migrations.RunPython.noop)]
