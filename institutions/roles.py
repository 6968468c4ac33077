"""Role groups and their model permissions, applied by data migrations of each app.

Each app's data migration calls `grant_permissions` with the permissions of its own models, so
the groups exist with exactly what DOMAIN.md gives each role, on a fresh database as on an old one.
"""

from collections.abc import Mapping, Sequence

ROLE_NAMES = (
    "finance_center", "inspector", "third_party", "institution_filer", "institution_head",
    "discipline", "api_client", "employee", "city",
)


def _ensure_permissions(apps, app_label: str) -> None:
    # Permissions are normally created after all migrations ran (post_migrate); a data migration
    # that assigns them on a fresh database has to create them itself first.
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    original = getattr(app_config, "models_module", None)
    app_config.models_module = original or True  # historical app configs have none
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = original


def grant_permissions(apps, app_label: str, grants: Mapping[str, Sequence[str]]) -> None:
    """grants: role name -> codenames ("view_institution", ...) of models in `app_label`."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    _ensure_permissions(apps, app_label)
    for role in ROLE_NAMES:
        Group.objects.get_or_create(name=role)
    for role, codenames in grants.items():
        group = Group.objects.get(name=role)
        perms = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(perms.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"unknown permissions for {app_label}: {sorted(missing)}")
        group.permissions.add(*perms)
