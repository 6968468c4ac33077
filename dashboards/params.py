"""The dashboards' query parameters (district, year, category), read the same way by pages and API."""

from __future__ import annotations

from django.utils.translation import gettext as _

from institutions.models import District, InstitutionCategory

from . import data, selectors
from .data import DistrictQuery
from .selectors import Scope


class ParamError(ValueError):
    """Bad query parameters: `errors` maps each parameter to its message (an API answers 400)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def _default_district() -> District | None:
    # Which district has the most institutions changes rarely: five minutes in the cache.
    code = data.cached("default-district", (), lambda: (d.code if (d := selectors.default_district()) else ""),
                       ttl=300)
    return selectors.district_by_code(code) if code else None


def district_param(params) -> District:
    code = str(params.get("district", "") or "").strip()
    district = selectors.district_by_code(code) if code else _default_district()
    if district is None or district.level != District.Level.DISTRICT:
        raise ParamError({"district": _("未知的区县行政区划代码：%(code)s") % {"code": code or "—"}})
    return district


def category_param(params) -> str:
    category = str(params.get("category", "") or "").strip()
    if category and category not in InstitutionCategory.values:
        raise ParamError({"category": _("机构类别应为 bank、insurance、securities、private_lending 或 other")})
    return category


def year_param(params, scope: Scope) -> int:
    raw = str(params.get("year", "") or "").strip()
    if raw:
        if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
            raise ParamError({"year": _("年度应为四位数字，例如 2026")})
        return int(raw)
    year = data.default_year(scope)
    if year is None:
        raise ParamError({"year": _("尚无任何年度的评价方案")})
    return year


def district_query(params) -> DistrictQuery:
    errors: dict[str, str] = {}
    district = category = year = None
    for name, read in (("district", lambda: district_param(params)), ("category", lambda: category_param(params))):
        try:
            value = read()
        except ParamError as exc:
            errors.update(exc.errors)
            continue
        if name == "district":
            district = value
        else:
            category = value
    if district is not None:
        try:
            year = year_param(params, Scope(district_id=district.pk))
        except ParamError as exc:
            errors.update(exc.errors)
    if errors:
        raise ParamError(errors)
    return DistrictQuery(district, year, category or "")


def city_param(params) -> District:
    code = str(params.get("city", "") or "").strip()
    if code:
        city = District.objects.filter(code=code, level=District.Level.CITY).first()
    else:
        district = _default_district()
        city = district.parent if district is not None else None
    if city is None:
        raise ParamError({"city": _("未知的设区市行政区划代码：%(code)s") % {"code": code or "—"}})
    return city


def plain_year(params, fallback_scope: Scope) -> int:
    return year_param(params, fallback_scope)
