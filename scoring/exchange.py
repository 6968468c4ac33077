"""The exchange with the city (与市级交换): a district's published year as a versioned package (JSON
with a schema, `data/district_package.schema.json`, plus an xlsx for people), and the checks a city
installation runs before importing one (`scoring.services.import_city_package`)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError

from . import rules
from .models import DistrictYear, Result, ResultStatus, YearStatus

SCHEMA_NAME = "clean-finance/district-results"
VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "data" / "district_package.schema.json"
MAX_BYTES = 50 * 1024 * 1024


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def _cents(value: Decimal) -> str:
    return f"{rules.round_half_up(Decimal(value)):.2f}"


def build_package(dy: DistrictYear) -> dict:
    """The published district-year as a package (refused before publication)."""
    if dy.status != YearStatus.PUBLISHED or dy.published_at is None:
        raise DomainError(_("%(district)s %(year)s 年度结果尚未发布，不能导出数据包")
                          % {"district": dy.district.name, "year": dy.year})
    results = list(Result.objects.filter(district_id=dy.district_id, year=dy.year, status=ResultStatus.PUBLISHED)
                   .select_related("institution").order_by("rank", "institution__code"))
    if not results:
        raise DomainError(_("%(district)s %(year)s 年度没有已发布的结果")
                          % {"district": dy.district.name, "year": dy.year})
    colours = {c: 0 for c in rules.COLOURS}
    for r in results:
        colours[r.colour] += 1
    total_sum = sum((r.total for r in results), Decimal(0))
    city = dy.district.parent
    return {
        "schema": SCHEMA_NAME, "version": VERSION, "generated_at": timezone.now().isoformat(),
        "district": {"code": dy.district.code, "name": dy.district.name,
                     "city": {"code": city.code, "name": city.name} if city else {"code": "0000", "name": "—"}},
        "year": dy.year, "published_at": dy.published_at.isoformat(),
        "statistics": {
            "institutions": len(results), "total_sum": _cents(total_sum),
            "mean_total": _cents(total_sum / len(results)), "colours": colours,
            "red_lines": sum(1 for r in results if r.red_line),
            "complaints_substantiated": sum(r.complaints_substantiated for r in results),
            "complaints_partial": sum(r.complaints_partial for r in results),
        },
        "results": [{
            "code": r.institution.code, "name": r.institution.name, "category": r.category, "total": _cents(r.total),
            "colour": r.colour, "red_line": r.red_line, "rank": r.rank, "category_rank": r.category_rank,
            "linkage": {"fiscal_tender": r.fiscal_tender, "party_building": r.party_building,
                        "performance_appraisal": r.performance_appraisal},
            "linkage_points": {"fiscal_tender": _cents(r.fiscal_tender_points),
                               "party_building": _cents(r.party_building_points),
                               "performance_appraisal": _cents(r.performance_appraisal_points)},
        } for r in results],
    }


def dumps(package: dict) -> bytes:
    return json.dumps(package, ensure_ascii=False, indent=1, sort_keys=True).encode()


def checksum(package: dict) -> str:
    return hashlib.sha256(json.dumps(package, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def render_xlsx(package: dict) -> bytes:
    from openpyxl import Workbook

    from core.exports import append_row

    book = Workbook()
    ws = book.active
    ws.title = _("概况")
    stats = package["statistics"]
    for row in ([_("数据包"), f"{package['schema']} v{package['version']}"],
                [_("行政区"), f"{package['district']['name']}（{package['district']['code']}）"],
                [_("所属市"), package["district"]["city"]["name"]], [_("年度"), package["year"]],
                [_("发布时间"), package["published_at"]], [_("机构数"), stats["institutions"]],
                [_("平均总分"), stats["mean_total"]],
                *[[_("%(colour)s色") % {"colour": rules.COLOUR_NAMES_ZH[c]}, stats["colours"][c]]
                  for c in rules.COLOURS],
                [_("触碰红线"), stats["red_lines"]], [_("属实投诉"), stats["complaints_substantiated"]],
                [_("部分属实投诉"), stats["complaints_partial"]]):
        append_row(ws, row)
    results = book.create_sheet(_("结果"))
    append_row(results, [_("排名"), _("类别排名"), _("机构编码"), _("机构名称"), _("类别"), _("总分"), _("颜色"),
                         _("红线"), _("财政性资金招投标"), _("党建星级评定"), _("年度业绩考评"), _("招投标加减分"),
                         _("党建加减分"), _("考评加减分")])
    for r in package["results"]:
        append_row(results, [r["rank"], r["category_rank"], r["code"], r["name"], r["category"], r["total"],
                             rules.COLOUR_NAMES_ZH[r["colour"]], _("是") if r["red_line"] else _("否"),
                             *[r["linkage"][u] for u in rules.LINKAGE_USES],
                             *[r["linkage_points"][u] for u in rules.LINKAGE_USES]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parse(raw: bytes | str | dict) -> dict:
    """A received package, checked against the schema and for consistency; DomainError says what is wrong."""
    import jsonschema

    if isinstance(raw, (bytes, str)):
        if len(raw) > MAX_BYTES:
            raise DomainError(_("数据包过大（上限 50 MB）"), field="file")
        try:
            package = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise DomainError(_("数据包不是有效的 JSON 文件"), field="file") from None
    else:
        package = raw
    if not isinstance(package, dict) or package.get("schema") != SCHEMA_NAME:
        raise DomainError(_("不是清廉金融区县结果数据包（schema 不符）"), field="file")
    if package.get("version") != VERSION:
        raise DomainError(_("数据包版本 %(version)s 不受支持（本系统支持版本 %(supported)s）")
                          % {"version": repr(package.get("version")), "supported": VERSION}, field="file")
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(package), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or _("（根）")
        raise DomainError(_("数据包格式不符（%(where)s）：%(error)s") % {"where": where, "error": first.message[:200]},
                          field="file")
    stats, results = package["statistics"], package["results"]
    if results:
        colours = {c: sum(1 for r in results if r["colour"] == c) for c in rules.COLOURS}
        total = sum((Decimal(r["total"]) for r in results), Decimal(0))
        if (len(results) != stats["institutions"] or colours != stats["colours"]
                or _cents(total) != stats["total_sum"]
                or sum(1 for r in results if r["red_line"]) != stats["red_lines"]):
            raise DomainError(_("数据包的统计与结果明细不一致"), field="file")
    elif sum(stats["colours"].values()) != stats["institutions"]:
        raise DomainError(_("数据包的四色分布与机构数不一致"), field="file")
    for key in ("generated_at", "published_at"):
        try:
            moment = datetime.fromisoformat(package[key])
        except ValueError:
            raise DomainError(_("数据包的 %(field)s 不是有效时间") % {"field": key}, field="file") from None
        if moment.tzinfo is None:
            raise DomainError(_("数据包的 %(field)s 须带时区") % {"field": key}, field="file")
    return package
