"""Who may see which institution's data: the one scoping mechanism used by admin, API, pages, exports.

District-wide roles see every institution of the installation; institution users (filer, head,
employee) see only the institutions they are members of. Anything outside a user's scope is
simply absent from their querysets, so looking it up by id or code gives 404, never 403: that
way nobody learns whether another institution's object exists.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet

from .models import INSTITUTION_ROLES, Membership, Role

DISTRICT_WIDE_ROLES = frozenset(
    {Role.FINANCE_CENTER, Role.INSPECTOR, Role.THIRD_PARTY, Role.DISCIPLINE, Role.API_CLIENT, Role.CITY}
)
_ROLES_CACHE = "_clean_finance_roles"
_INSTITUTIONS_CACHE = "_clean_finance_institution_ids"


def user_roles(user) -> frozenset[str]:
    """The user's role names (their groups plus institution memberships), cached per request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        groups = set(user.groups.values_list("name", flat=True))
        groups |= set(Membership.objects.filter(user=user).values_list("role", flat=True))
        cached = frozenset(groups)
        setattr(user, _ROLES_CACHE, cached)
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def is_finance_center(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.FINANCE_CENTER)


def sees_all_institutions(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or bool(user_roles(user) & DISTRICT_WIDE_ROLES)


def institution_ids(user) -> frozenset[int] | None:
    """None means every institution; otherwise the ids of the user's own institutions."""
    if sees_all_institutions(user):
        return None
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, _INSTITUTIONS_CACHE, None)
    if cached is None:
        ids = set(Membership.objects.filter(user=user).values_list("institution_id", flat=True))
        employee = getattr(user, "employee", None) if hasattr(user, "employee") else None
        if employee is not None:
            ids.add(employee.institution_id)
        cached = frozenset(ids)
        setattr(user, _INSTITUTIONS_CACHE, cached)
    return cached


def primary_institution(user):
    """The institution shown for an institution user (lowest code if several), else None."""
    ids = institution_ids(user)
    if not ids:
        return None
    from .models import Institution

    return Institution.objects.filter(pk__in=ids).order_by("code").first()


def scope_queryset(queryset: QuerySet, user, institution_path: str = "institution") -> QuerySet:
    """Restrict `queryset` to rows of institutions the user may see.

    `institution_path` is the lookup from the model to its institution ("" for Institution itself,
    "sheet__assessment__institution" for deeper models).
    """
    ids = institution_ids(user)
    if ids is None:
        return queryset
    lookup = f"{institution_path}__in" if institution_path else "pk__in"
    return queryset.filter(**{lookup: ids})


def can_access_institution(user, institution_id: int) -> bool:
    ids = institution_ids(user)
    return ids is None or institution_id in ids


def institution_of(obj: Model, institution_path: str):
    """Follow `institution_path` from obj to its Institution."""
    target = obj
    for part in filter(None, institution_path.split("__")):
        target = getattr(target, part)
    return target


__all__ = [
    "DISTRICT_WIDE_ROLES",
    "INSTITUTION_ROLES",
    "can_access_institution",
    "has_role",
    "institution_ids",
    "institution_of",
    "is_finance_center",
    "primary_institution",
    "scope_queryset",
    "sees_all_institutions",
    "user_roles",
]
