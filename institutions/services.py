"""Services of the registry: district grants (who serves which district).

A grant puts the user in the role's group too (the group carries the role's model permissions);
revoking the last grant of a role takes the user out of the group again.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from core import shell
from core.errors import DomainError, NotAllowed

from .models import GRANT_ROLES, District, DistrictGrant, Role


def check_grant(role: str, district: District) -> None:
    if role not in GRANT_ROLES:
        raise DomainError(_("角色 %(role)s 不按区县授权（机构用户请在“机构成员”中设置）") % {"role": role})
    if role == Role.CITY and district.level != District.Level.CITY:
        raise DomainError(_("市级用户须授权到市（如 台州市 3310）"))
    if role != Role.CITY and district.level != District.Level.DISTRICT:
        raise DomainError(_("“%(role)s”须授权到县（市、区），不能授权到 %(district)s")
                          % {"role": Role(role).label, "district": district.name})


@transaction.atomic
def grant_role(user, role: str, district: District, *, granted_by=None) -> DistrictGrant:
    """Grant `role` in `district` (idempotent)."""
    if granted_by is not None and not getattr(granted_by, "is_superuser", False):
        raise NotAllowed(_("只有系统管理员可以授权区县角色"))
    check_grant(role, district)
    _hold_user(user)
    grant, _created = DistrictGrant.objects.get_or_create(
        user=user, role=role, district=district,
        defaults={"granted_by": granted_by if getattr(granted_by, "pk", None) else None})
    user.groups.add(Group.objects.get(name=role))
    _forget_cached_scope(user)
    transaction.on_commit(shell.roles_changed)
    return grant


@transaction.atomic
def revoke_role(grant: DistrictGrant, *, revoked_by=None) -> None:
    if revoked_by is not None and not getattr(revoked_by, "is_superuser", False):
        raise NotAllowed(_("只有系统管理员可以撤销区县授权"))
    user, role = grant.user, grant.role
    _hold_user(user)
    grant.delete()
    if not DistrictGrant.objects.filter(user=user, role=role).exists():
        user.groups.remove(*Group.objects.filter(name=role))
    _forget_cached_scope(user)
    transaction.on_commit(shell.roles_changed)


def _hold_user(user) -> None:
    """Grants and revocations of one user wait for one another: a revocation deciding whether the user
    keeps the role's group must see a grant of the same role being made elsewhere (else the group was
    taken away although a grant remained)."""
    type(user).objects.select_for_update().filter(pk=user.pk).exists()


def _forget_cached_scope(user) -> None:
    from . import access

    for name in (access._ROLES_CACHE, access._GRANTS_CACHE, access._INSTITUTIONS_CACHE, access._HEADS_CACHE,
                 access._MEMBER_CACHE):
        if hasattr(user, name):
            delattr(user, name)
