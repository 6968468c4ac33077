"""Permissions on employees' clean points after the move out of `scoring` (issue #10).

The models' content types move from the `scoring` label to `staff_points` (renamed in place, so the
permissions on them and whatever groups or users were given those permissions stay attached); then
the role groups get this app's grants. `scoring.0002_role_permissions` granted no role anything on
these models (pages and services decide who may record, confirm or view), so neither does this.
Idempotent: `tests/conftest.py` re-runs `apply` after a transactional flush.
"""

from django.conf import settings
from django.db import migrations

from institutions.roles import grant_permissions

MOVED = ("violationtype", "pointrecord", "blacklistentry", "portraitview", "exemplar")

GRANTS: dict[str, list[str]] = {}


def move_content_types(apps, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        # Both exist (the new one was created meanwhile): carry the grants over, then drop the old type.
        for permission in Permission.objects.filter(content_type=old):
            same = Permission.objects.filter(content_type=new, codename=permission.codename).first()
            if same is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
            else:
                same.group_set.add(*permission.group_set.all())
                same.user_set.add(*permission.user_set.all())
        old.delete()


def apply(apps, schema_editor):
    move_content_types(apps, "scoring", "staff_points")
    grant_permissions(apps, "staff_points", GRANTS)


def unapply(apps, schema_editor):
    move_content_types(apps, "staff_points", "scoring")


class Migration(migrations.Migration):
    dependencies = [
        ("staff_points", "0001_initial"),
        ("institutions", "0003_role_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [migrations.RunPython(apply, unapply)]
