"""The dashboards' query parameters (district, year, category, city), read the same way by pages and API.

The district and the city are resolved for the reader (permissions.py): one of their own, 404 for
any other; bad values of the other parameters raise ParamError (an API answers 400).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import DomainError
from core.years import parse_year
from institutions.models import InstitutionCategory

from . import data, permissions
from .data import CityQuery, DistrictQuery
from .selectors import Scope


class ParamError(ValueError):
    """Bad query parameters: `errors` maps each parameter to its message (an API answers 400)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def category_param(params) -> str:
    category = str(params.get("category", "") or "").strip()
    if category and category not in InstitutionCategory.values:
        raise ParamError({"category": _("机构类别应为 bank、insurance、securities、private_lending 或 other")})
    return category


def year_param(params, scope: Scope, *, published: bool = False) -> int:
    try:
        given = parse_year(params.get("year"))  # the one reading of a year (core.years)
    except DomainError as exc:
        raise ParamError({"year": str(exc)}) from exc
    if given is not None:
        return given
    year = data.default_year(scope, published=published)
    if year is None:
        raise ParamError({"year": _("尚无任何年度的评价方案")})
    return year


def district_query(user, params, *, default_first: bool = False) -> DistrictQuery:
    """The reader's district (Http404 outside their finance-center districts), year and category."""
    district = permissions.district_for(user, str(params.get("district", "") or ""), default_first=default_first)
    errors: dict[str, str] = {}
    category = year = None
    try:
        category = category_param(params)
    except ParamError as exc:
        errors.update(exc.errors)
    try:
        year = year_param(params, Scope(district_id=district.pk))
    except ParamError as exc:
        errors.update(exc.errors)
    if errors:
        raise ParamError(errors)
    return DistrictQuery(district, year, category or "")


def city_query(user, params) -> CityQuery:
    """The reader's city (Http404 outside it) and year, limited to the districts they read."""
    city = permissions.city_for(user, str(params.get("city", "") or ""))
    ids = permissions.city_districts(user)
    district_ids = None if ids is None else tuple(sorted(ids))
    year = year_param(params, Scope(city_id=city.pk, district_ids=district_ids), published=True)
    return CityQuery(city, year, district_ids)
