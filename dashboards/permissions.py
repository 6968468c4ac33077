"""Who may see which dashboard, on top of institutions.access (the one scoping mechanism).

- the district dashboards, their drill-downs and API, and the annual reports: a district's finance
  center, for its own districts only (`?district=` chooses among several; any other district is
  404, exactly as if it did not exist); the installation administrator for every district;
- the city roll-up: city users, for the districts of the city they are granted, published results
  and aggregates only (no institution, no person); the administrator for every city;
- an institution's dashboard: the finance center of its district, and that institution's head
  (their own result from the notice period on, DOMAIN.md "Results are seen in stages"). Any other
  institution answers 404; users with no dashboard role at all get 403, which tells them nothing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import NotFound
from institutions import access
from institutions.models import District, Institution, Role
from scoring import selectors as scoring_selectors

from .data import InstitutionView
from .models import AnnualReport

FINANCE = (Role.FINANCE_CENTER,)
NOT_FOUND = gettext_lazy("未找到，或您无权查看。")


def can_see_district(user) -> bool:
    """A finance-center officer of some district (or the administrator)."""
    return access.is_finance_center(user)


def finance_districts(user) -> QuerySet[District]:
    """The county-level districts whose dashboards and reports the user reads, by code."""
    return access.visible_districts(user, FINANCE)


def district_for(user, code: str | None, *, default_first: bool = False) -> District:
    """The district a dashboard or report is about: `code` among the user's finance-center districts
    (Http404 for any other), else the only one. With several and none chosen: the first of them when
    `default_first` (pages, which show a chooser), else the access layer's 400 that lists them."""
    code = (code or "").strip()
    if not code and default_first:
        first = finance_districts(user).first()
        if first is not None:
            return first
    try:
        return access.resolve_district(user, code, FINANCE)
    except NotFound:
        raise Http404(NOT_FOUND) from None


def finance_district_ids(user) -> frozenset[int] | None:
    """The districts the user is finance center of; None: every district (the administrator)."""
    return access.district_ids(user, Role.FINANCE_CENTER)


def can_see_city(user) -> bool:
    return access.is_superuser(user) or bool(access.district_ids(user, Role.CITY))


def city_districts(user) -> frozenset[int] | None:
    """The districts whose published figures the user reads on the city roll-up; None: all (administrator)."""
    return access.district_ids(user, Role.CITY)


def visible_cities(user) -> QuerySet[District]:
    """The cities holding districts the user reads on the city roll-up, by code."""
    cities = District.objects.filter(level=District.Level.CITY)
    ids = city_districts(user)
    if ids is not None:
        cities = cities.filter(children__pk__in=ids).distinct()
    return cities.order_by("code")


def city_for(user, code: str | None) -> District:
    """`code` among the user's cities (Http404 otherwise), else their first city."""
    cities = visible_cities(user)
    code = (code or "").strip()
    city = cities.filter(code=code).first() if code and "\x00" not in code else (None if code else cities.first())
    if city is None:
        raise Http404(NOT_FOUND)
    return city


def head_institution_ids(user) -> frozenset[int]:
    """Institutions the user heads (a membership with the institution_head role)."""
    return access.headed_institution_ids(user)


def is_head(user) -> bool:
    return bool(head_institution_ids(user))


def can_use_institution_dashboards(user) -> bool:
    return access.is_finance_center(user) or is_head(user)


def institution_for(user, code: str) -> Institution:
    """The institution whose dashboard `user` asks for: PermissionDenied without a role, Http404 outside scope."""
    finance = finance_district_ids(user)
    heads = head_institution_ids(user)
    if finance is not None and not finance and not heads:
        raise PermissionDenied(_("只有区金融工作中心和机构负责人可以查看机构看板。"))
    qs = Institution.objects.select_related("district", "district__parent").filter(code=code)
    if finance is not None:
        institution = qs.first()
        if institution is None or (institution.district_id not in finance and institution.pk not in heads):
            raise Http404(NOT_FOUND)
        return institution
    institution = qs.first()
    if institution is None:
        raise Http404(NOT_FOUND)
    return institution


def sees_district_results(user, institution: Institution) -> bool:
    """Whether the user reads the institution's district as its finance center (every stage, every
    institution's figures), rather than as the institution's head."""
    return access.is_finance_center(user, institution.district_id)


def institution_view(user, code: str) -> InstitutionView:
    """The institution as `user` may see it (403 without a dashboard role, 404 outside their scope):
    with the user's visible results (DOMAIN.md "Results are seen in stages")."""
    institution = institution_for(user, code)
    return InstitutionView(institution, scoring_selectors.visible_results(user),
                           sees_district_results(user, institution))


def visible_reports(user) -> QuerySet[AnnualReport]:
    """The annual reports of the user's finance-center districts, newest first."""
    reports = AnnualReport.objects.select_related("district", "created_by").order_by("-created_at", "-id")
    ids = finance_district_ids(user)
    return reports if ids is None else reports.filter(district_id__in=ids)


def own_institution(user) -> Institution | None:
    """The institution a head lands on (their lowest code)."""
    ids = head_institution_ids(user)
    if not ids:
        return None
    return Institution.objects.filter(pk__in=ids).order_by("code").first()
