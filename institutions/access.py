"""Who may see which district's and institution's data: the one scoping mechanism used by admin,
API, pages, exports and tasks.

- District-wide roles (finance center, inspector, third party, discipline, API client) are granted
  per district (`DistrictGrant`); `city` is granted a city and reaches the city's districts. Such a
  user sees the institutions of their districts and nothing of any other district.
- Institution users (filer, head, employee) see only the institutions they are members of.
- The installation administrator (superuser) sees every district.

Anything outside a user's scope is simply absent from their querysets, so looking it up by id or
code gives 404, never 403: that way nobody learns whether another district's or institution's
object exists. What a role may *do* inside its scope is for each app's services to decide.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import DomainError, NotFound

from .models import (
    DISTRICT_ROLES,
    GRANT_ROLES,
    INSTITUTION_ROLES,
    District,
    DistrictGrant,
    Institution,
    Membership,
    Role,
)

# Kept for callers that ask "is this a district-wide role": the granted roles.
DISTRICT_WIDE_ROLES = frozenset(GRANT_ROLES)
_ROLES_CACHE = "_clean_finance_roles"
_GRANTS_CACHE = "_clean_finance_grants"
_INSTITUTIONS_CACHE = "_clean_finance_institution_ids"
_HEADS_CACHE = "_clean_finance_headed_ids"
_MEMBER_CACHE = "_clean_finance_member_ids"


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def is_superuser(user) -> bool:
    return _authenticated(user) and bool(getattr(user, "is_superuser", False))


def _grants(user) -> dict[str, frozenset[int]]:
    """role -> district ids the role reaches (a city grant reaches the city's districts), per request."""
    if not _authenticated(user) or not getattr(user, "pk", None):
        return {}
    cached = getattr(user, _GRANTS_CACHE, None)
    if cached is None:
        by_role: dict[str, set[int]] = {}
        rows = DistrictGrant.objects.filter(user=user).values_list("role", "district_id", "district__level")
        cities = []
        for role, district_id, level in rows:
            if level == District.Level.CITY:
                cities.append((role, district_id))
            else:
                by_role.setdefault(role, set()).add(district_id)
        if cities:
            children = {}
            for pk, parent in District.objects.filter(parent_id__in=[c for _r, c in cities]).values_list(
                    "pk", "parent_id"):
                children.setdefault(parent, set()).add(pk)
            for role, city_id in cities:
                by_role.setdefault(role, set()).update(children.get(city_id, ()))
        cached = {role: frozenset(ids) for role, ids in by_role.items()}
        setattr(user, _GRANTS_CACHE, cached)
    return cached


def user_roles(user) -> frozenset[str]:
    """The user's role names (groups, institution memberships and district grants), per request."""
    if not _authenticated(user):
        return frozenset()
    cached = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True)) if getattr(user, "pk", None) else set()
        if getattr(user, "pk", None):
            names |= set(Membership.objects.filter(user=user).values_list("role", flat=True))
        names |= set(_grants(user))
        cached = frozenset(names)
        setattr(user, _ROLES_CACHE, cached)
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def district_ids(user, *roles: str) -> frozenset[int] | None:
    """The districts the user acts in through the given roles (every granted role if none given).

    None means every district (the installation administrator)."""
    if is_superuser(user):
        return None
    grants = _grants(user)
    wanted = roles or tuple(grants)
    out: set[int] = set()
    for role in wanted:
        out |= grants.get(role, frozenset())
    return frozenset(out)


def is_finance_center(user, district: District | int | None = None) -> bool:
    """A finance-center officer (of `district`, when given), or the installation administrator."""
    if is_superuser(user):
        return True
    ids = district_ids(user, Role.FINANCE_CENTER)
    if district is None:
        return bool(ids)
    return _pk(district) in ids


def acts_in(user, district: District | int, *roles: str) -> bool:
    """Whether the user holds one of `roles` (any granted role if none) in `district`."""
    ids = district_ids(user, *roles)
    return ids is None or _pk(district) in ids


def own_institution_ids(user) -> frozenset[int]:
    """The institutions the user belongs to (memberships, or the employee record)."""
    if not _authenticated(user) or not getattr(user, "pk", None):
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


def member_institution_ids(user, *roles: str) -> frozenset[int]:
    """The institutions where the user holds one of `roles` as a member (not merely as an employee)."""
    if not _authenticated(user) or not getattr(user, "pk", None):
        return frozenset()
    # Per request, like the roles: a list page asks once per row (issue 16: 5,000 queries on /scoring/).
    cache = getattr(user, _MEMBER_CACHE, None)
    if cache is None:
        cache = {}
        setattr(user, _MEMBER_CACHE, cache)
    key = frozenset(roles)
    if key not in cache:
        cache[key] = frozenset(Membership.objects.filter(user=user, role__in=list(roles))
                               .values_list("institution_id", flat=True))
    return cache[key]


def headed_institution_ids(user) -> frozenset[int]:
    """The institutions the user heads (an institution_head membership), per request."""
    if not _authenticated(user) or not getattr(user, "pk", None):
        return frozenset()
    roles = getattr(user, _ROLES_CACHE, None)
    if roles is not None and Role.INSTITUTION_HEAD not in roles:
        return frozenset()  # known from this request's roles: no query
    cached = getattr(user, _HEADS_CACHE, None)
    if cached is None:
        cached = frozenset(Membership.objects.filter(user=user, role=Role.INSTITUTION_HEAD)
                           .values_list("institution_id", flat=True))
        setattr(user, _HEADS_CACHE, cached)
    return cached


def is_institution_user(user, *roles: str) -> bool:
    """Member of an institution (with one of `roles`, when given)."""
    if not own_institution_ids(user):
        return False
    return has_role(user, *roles) if roles else True


def sees_district_wide(user) -> bool:
    """Holds a district-wide role somewhere (or is the administrator)."""
    return is_superuser(user) or bool(_grants(user))


def _pk(obj: Model | int) -> int:
    return obj if isinstance(obj, int) else obj.pk


def _prefix(path: str, field: str) -> str:
    return f"{path}__{field}" if path else field


def scope_filter(user, institution_path: str = "institution", roles: Iterable[str] = ()) -> Q | None:
    """The condition that keeps the rows of institutions the user may see (None: no restriction).

    `roles` limits the district grants that count (e.g. only the finance center's districts)."""
    districts = district_ids(user, *roles)
    if districts is None:
        return None
    condition = Q(**{f"{_prefix(institution_path, 'district_id')}__in": districts}) if districts else Q(pk__in=())
    own = own_institution_ids(user)
    if own:
        condition |= Q(**{f"{institution_path or 'pk'}__in": own})
    return condition


def scope_queryset(queryset: QuerySet, user, institution_path: str = "institution",
                   roles: Iterable[str] = ()) -> QuerySet:
    """Restrict `queryset` to rows of institutions the user may see.

    `institution_path` is the lookup from the model to its institution ("" for Institution itself,
    "sheet__assessment__institution" for deeper models).
    """
    if not _authenticated(user):
        return queryset.none()
    condition = scope_filter(user, institution_path, roles)
    return queryset if condition is None else queryset.filter(condition)


def scope_districts(queryset: QuerySet, user, district_path: str = "district", roles: Iterable[str] = ()) -> QuerySet:
    """Restrict rows that belong to a district (`district_path`: lookup to the District) to the user's
    districts; an institution user reaches their own institutions' districts."""
    if not _authenticated(user):
        return queryset.none()
    districts = district_ids(user, *roles)
    if districts is None:
        return queryset
    own = own_institution_ids(user)
    if own and not roles:
        districts = districts | frozenset(
            Institution.objects.filter(pk__in=own).values_list("district_id", flat=True))
    lookup = f"{district_path}__in" if district_path else "pk__in"
    return queryset.filter(**{lookup: districts})


def visible_districts(user, roles: Iterable[str] = ()) -> QuerySet:
    """The county-level districts the user acts in, ordered by code."""
    qs = District.objects.filter(level=District.Level.DISTRICT)
    return scope_districts(qs, user, "", roles).order_by("code")


def resolve_district(user, code: str | None = None, roles: Iterable[str] = ()) -> District:
    """The district an action or figure is about: `code` when given (404 unless the user acts there),
    else the user's only district. Several granted and none chosen: a 400 that lists them."""
    districts = visible_districts(user, roles)
    code = (code or "").strip()
    if code:
        if "\x00" in code:
            raise NotFound(_("未找到该区县"))
        district = districts.filter(code=code).first()
        if district is None:
            raise NotFound(_("未找到该区县，或您无权访问"))
        return district
    options = list(districts[:21])
    if len(options) == 1:
        return options[0]
    if not options:
        raise NotFound(_("您没有被授权任何区县"))
    listed = "、".join(f"{d.name}（{d.code}）" for d in options[:20])
    raise DomainError(_("您被授权多个区县，请用 district 参数选择其一：%(districts)s") % {"districts": listed})


def can_access_institution(user, institution: Institution | int) -> bool:
    if is_superuser(user):
        return True
    institution_id = _pk(institution)
    if institution_id in own_institution_ids(user):
        return True
    districts = district_ids(user)
    if not districts:
        return False
    district_id = (institution.district_id if isinstance(institution, Institution)
                   else Institution.objects.filter(pk=institution_id).values_list("district_id", flat=True).first())
    return district_id in districts


def primary_institution(user):
    """The institution shown for an institution user (lowest code if several), else None."""
    ids = own_institution_ids(user)
    if not ids:
        return None
    return Institution.objects.filter(pk__in=ids).select_related("district").order_by("code").first()


def institution_of(obj: Model, institution_path: str):
    """Follow `institution_path` from obj to its Institution."""
    target = obj
    for part in filter(None, institution_path.split("__")):
        target = getattr(target, part)
    return target


__all__ = [
    "DISTRICT_ROLES",
    "DISTRICT_WIDE_ROLES",
    "INSTITUTION_ROLES",
    "acts_in",
    "can_access_institution",
    "district_ids",
    "has_role",
    "headed_institution_ids",
    "institution_of",
    "is_finance_center",
    "is_institution_user",
    "is_superuser",
    "member_institution_ids",
    "own_institution_ids",
    "primary_institution",
    "resolve_district",
    "scope_districts",
    "scope_filter",
    "scope_queryset",
    "sees_district_wide",
    "user_roles",
    "visible_districts",
]
