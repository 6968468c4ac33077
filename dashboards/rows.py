"""The rows behind each district chart (every chart links to them): one bounded page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from staff_points.models import Module

from . import data, figures, selectors
from .data import DistrictQuery, jsonable

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

RANKING_COLUMNS = [("rank_text", _lazy("区内排名")), ("code", _lazy("机构编码")), ("name", _lazy("机构名称")),
                   ("category_label", _lazy("类别")), ("total", _lazy("总分")), ("colour_label", _lazy("颜色")),
                   ("red_line", _lazy("红线")), ("previous_total", _lazy("上年总分")), ("change", _lazy("同比"))]
FIGURE_TITLES = {
    "ranking": _lazy("积分排名"), "colours": _lazy("四色分布"), "distribution": _lazy("分数分布"),
    "items": _lazy("分项得分"), "trend": _lazy("历年积分"), "complaints": _lazy("举报投诉"),
    "outcomes": _lazy("核查结论"), "satisfaction": _lazy("满意度"), "violations": _lazy("员工违规"),
    "acknowledgements": _lazy("警示知悉"),
}
ROW_FIGURES = tuple(FIGURE_TITLES)


class UnknownFigure(LookupError):
    pass


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page_from(params) -> Page:
    def number(name: str, default: int, top: int) -> int:
        raw = str(params.get(name, "") or "")
        return max(1, min(int(raw), top)) if raw.isdigit() else default

    return Page(number("page", 1, 1_000_000), number("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))


def _institution_url(code: str, year: int) -> str:
    return reverse("dashboards:institution", kwargs={"code": code}) + f"?year={year}"


def _ranking(q: DistrictQuery, page: Page, keep=lambda r: True) -> tuple[int, list[dict]]:
    rows = [r for r in data.ranking_rows(q) if keep(r)]
    chosen = rows[page.offset:page.offset + page.size]
    return len(rows), [{**r, "url": _institution_url(r["code"], q.year)} for r in chosen]


def key_label(figure: str, key: str) -> str:
    """How the clicked part of a chart reads in the rows page's title (绿, 90–100, 第3项, 投诉 3月…)."""
    if not key:
        return ""
    if figure == "colours":
        return str(figures.COLOUR_LABELS.get(key, key))
    if figure == "distribution":
        return next((b.label for b in figures.SCORE_BINS if b.key == key), key)
    if figure == "items" and key.isdigit():
        return _("第%(number)s项") % {"number": key}
    if figure == "trend":
        return _("%(year)s年") % {"year": key}
    if figure == "complaints":
        parts = [str(data.KIND_LABELS.get(p, _("%(month)s月") % {"month": p} if p.isdigit() else p))
                 for p in key.split(":") if p]
        return " ".join(parts)
    if figure == "outcomes":
        return str(data.OUTCOME_LABELS.get(key, _("已出结论")))
    if figure in ("satisfaction", "violations") and key.isdigit():
        return _("%(month)s月") % {"month": key}
    return key


def district_rows(q: DistrictQuery, figure: str, key: str, page: Page) -> dict:
    """{"figure", "title", "key", "columns": [{key, label}], "count", "results"} for one chart's rows."""
    if figure not in ROW_FIGURES:
        raise UnknownFigure(figure)
    columns = RANKING_COLUMNS
    if figure in ("ranking", "colours", "distribution", "trend"):
        keep = lambda r: True  # noqa: E731
        if figure == "colours" and key:
            keep = lambda r: r["colour"] == key  # noqa: E731
        elif figure == "distribution" and key:
            chosen = next((b for b in figures.SCORE_BINS if b.key == key), None)
            keep = (lambda r: chosen.holds(Decimal(r["total"]))) if chosen else (lambda r: False)
        if figure == "trend" and key.isdigit():
            q = DistrictQuery(q.district, int(key), q.category)
        count, results = _ranking(q, page, keep)
    elif figure == "items":
        columns = [("code", _("机构编码")), ("name", _("机构名称")), ("score", _("该项得分"))]
        if not key.isdigit():
            count, results = 0, []
        else:
            # The points scoring's aggregation stored for the item (Result.item_cents), best first.
            count, results = selectors.item_rows(q.scope, q.year, int(key), offset=page.offset, limit=page.size)
            results = [{**r, "url": _institution_url(r["code"], q.year)} for r in results]
    elif figure in ("complaints", "outcomes"):
        kind, month, outcome = "", None, ""
        if figure == "complaints":
            for part in filter(None, key.split(":")):
                if part.isdigit():
                    month = int(part)
                elif part in data.KIND_LABELS:
                    kind = part
        else:
            outcome = key if key in data.OUTCOME_LABELS or key == "concluded" else "concluded"
        columns = [("id", _("编号")), ("received_on", _("接收日期")), ("code", _("机构编码")),
                   ("name", _("被反映机构")), ("kind_label", _("类型")), ("status", _("状态")),
                   ("outcome_label", _("核查结论")), ("concluded_on", _("结论日期"))]
        count, raw = selectors.complaint_rows(q.scope, q.year, kind=kind, month=month, outcome=outcome,
                                              offset=page.offset, limit=page.size)
        results = [{"id": r["id"], "received_on": timezone.localtime(r["received_at"]).date(),
                    "code": r["institution__code"], "name": r["institution__name"],
                    "kind_label": data.KIND_LABELS.get(r["kind"], r["kind"]), "status": r["status"],
                    "outcome_label": data.OUTCOME_LABELS.get(r["outcome"], ""),
                    "concluded_on": timezone.localtime(r["concluded_at"]).date() if r["concluded_at"] else None,
                    "url": reverse("complaints:case-detail", kwargs={"pk": r["id"]})} for r in raw]
    elif figure == "satisfaction":
        month = int(key) if key.isdigit() and 1 <= int(key) <= 12 else None
        columns = [("code", _("机构编码")), ("name", _("机构名称")), ("rated", _("评价数")), ("satisfied", _("满意数")),
                   ("rate", _("满意率（%）"))]
        count, raw = data.satisfaction_by_institution(q.scope, q.year, month, offset=page.offset,
                                                      limit=page.size)
        results = [{**r, "rate": figures.percent(r["satisfied"], r["rated"]),
                    "url": _institution_url(r["code"], q.year)} for r in raw]
    elif figure == "violations":
        month = int(key) if key.isdigit() and 1 <= int(key) <= 12 else None
        columns = [("date", _("日期")), ("code", _("机构编码")), ("name", _("机构名称")), ("employee", _("员工")),
                   ("violation", _("违规行为")), ("module_label", _("模块")), ("points", _("扣分"))]
        count, raw = selectors.violation_rows(q.scope, q.year, month=month, offset=page.offset, limit=page.size)
        results = [{"date": r["date"], "code": r["employee__institution__code"],
                    "name": r["employee__institution__name"],
                    "employee": f"{r['employee__name']}（{r['employee__employee_no']}）",
                    "violation": r["violation_type__name"] or "", "module_label": str(Module(r["module"]).label),
                    "points": r["points"]} for r in raw]
    else:  # acknowledgements
        columns = [("code", _("机构编码")), ("name", _("机构名称")), ("delivered", _("送达")),
                   ("acknowledged", _("已知悉")), ("acknowledged_rate", _("知悉率（%）")),
                   ("read_rate", _("阅读率（%）"))]
        count, raw = selectors.acknowledgement_by_institution(q.scope, q.year, offset=page.offset,
                                                              limit=page.size)
        results = [{"code": r["code"], "name": r["name"], "delivered": r["delivered"],
                    "acknowledged": r["acknowledged"], "acknowledged_rate": figures.percent(r["acknowledged"],
                                                                                             r["delivered"]),
                    "read_rate": figures.percent(r["read"], r["delivered"]),
                    "url": _institution_url(r["code"], q.year)} for r in raw]
    return jsonable({**q.head(), "figure": figure, "title": FIGURE_TITLES[figure], "key": key,
                     "key_label": key_label(figure, key),
                     "columns": [{"key": k, "label": label} for k, label in columns], "count": count,
                     "page": page.number, "page_size": page.size, "results": results})
