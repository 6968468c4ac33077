"""The annual report's content (年度报告): the same figures as the dashboard, plus the full ranking
(the stored district ranks), the red-line list and per-item detail (the points scoring's aggregation
stored per item, with the bonus and red-line indicators as entered); then the PDF (WeasyPrint) and
the xlsx pack (openpyxl).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.models import District, Institution
from scoring.models import IndicatorKind

from . import data, figures, selectors, svg
from .data import DistrictQuery
from .selectors import Scope


@dataclass
class ReportContent:
    district: District
    year: int
    generated_at: object
    ranking: list[dict]
    colours: dict
    distribution: dict
    items: dict
    trend: dict
    complaints: dict
    satisfaction: dict
    violations: dict
    acknowledgements: dict
    red_lines: list[dict]
    indicators: list[dict] = field(default_factory=list)
    indicator_rows: list[dict] = field(default_factory=list)
    complaints_by_institution: list[dict] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)
    rectifications: dict = field(default_factory=dict)  # inspections' stored tallies
    trainings: dict = field(default_factory=dict)  # activities' stored training hours
    risk: dict = field(default_factory=dict)  # risk's stored summary: counts only

    @property
    def title(self) -> str:
        return _("%(district)s%(year)s年度清廉金融建设报告") % {"district": self.district.name, "year": self.year}


def gather(district: District, year: int) -> ReportContent:
    """Everything the report shows, from the dashboards' own figures (bounded, grouped queries): the
    stored results and ranks, and the per-item points scoring's aggregation stored (Result.item_cents)."""
    q = DistrictQuery(district, year)
    ranking = data.ranking_rows(q)
    content = ReportContent(
        district=district, year=year, generated_at=timezone.localtime(), ranking=ranking,
        colours=data.colours(q), distribution=data.distribution(q), items=data.items(q), trend=data.trend(q),
        complaints=data.complaints(q), satisfaction=data.satisfaction(q), violations=data.violations(q),
        acknowledgements=data.acknowledgements(q), red_lines=[],
        rectifications=data.rectifications(q), trainings=data.trainings(q), risk=data.risk(q),
    )
    scheme = selectors.scheme_of(district.pk, year)
    scope = Scope(district_id=district.pk)
    if scheme is not None:
        # The detail: each item's stored points, then the bonus (as the inspection confirmed it) and
        # red-line indicators as entered.
        items = selectors.item_maxima(scheme)
        others = list(scheme.indicators.exclude(kind=IndicatorKind.BASIC).order_by("position", "code")
                      .values("id", "code", "kind", "title", "max_points"))
        content.indicators = [{"key": f"item-{i['number']}", "label": _("第%(number)s项") % {"number": i["number"]}}
                              for i in items] + [{"key": i["code"], "label": i["code"]} for i in others]
        points = selectors.item_points_by_institution(scope, year)
        extra = selectors.confirmed_bonus_and_red_lines(scheme, scope)
        by_id = {i["id"]: i for i in others}
        hits: dict[int, list[str]] = {}
        for (institution_id, indicator_id), value in extra.items():
            if value is True and indicator_id in by_id:
                hits.setdefault(institution_id, []).append(by_id[indicator_id]["code"])
        for row in ranking:
            values = {f"item-{i['number']}": points.get((row["institution_id"], i["number"])) for i in items}
            for indicator in others:
                key = (row["institution_id"], indicator["id"])
                if indicator["kind"] == IndicatorKind.BONUS:
                    values[indicator["code"]] = extra.get(key)
                else:
                    values[indicator["code"]] = _("触碰") if extra.get(key) is True else ""
            content.indicator_rows.append({"code": row["code"], "name": row["name"], "values": values})
            if row["red_line"]:
                titles = [f"{c} {by_id_code(others, c)}" for c in sorted(hits.get(row["institution_id"], []))]
                content.red_lines.append({**row, "indicators": _("；").join(titles) or "—"})
    else:
        content.red_lines = [r for r in ranking if r["red_line"]]
    content.complaints_by_institution = complaints_by_institution(district, year)
    content.charts = charts(content)
    return content


def by_id_code(indicators: list[dict], code: str) -> str:
    return next((i["title"] for i in indicators if i["code"] == code), "")


def complaints_by_institution(district: District, year: int) -> list[dict]:
    """Per institution counts from the complaints app's own statistics selector."""
    from complaints import selectors as complaint_selectors

    ids = frozenset(Institution.objects.filter(district=district).values_list("pk", flat=True))
    stats = complaint_selectors.statistics(year, institution_ids=ids)
    return [{"code": r["institution__code"], "name": r["institution__name"], "total": r["total"],
             "ratings": r["ratings"], "suggestions": r["suggestions"], "complaints": r["complaints"],
             "reports": r["reports"], "substantiated": r["substantiated"], "partially": r["partially"],
             "unsubstantiated": r["unsubstantiated"], "substantiation_rate": r["substantiation_rate"]}
            for r in stats.by_institution]


def _year(year) -> str:
    return _("%(year)s年") % {"year": year}


def charts(content: ReportContent) -> dict[str, str]:
    months = [_("%(month)s月") % {"month": m} for m in range(1, 13)]
    colour_parts = [(c["label"], c["count"], svg.COLOUR_HEX[c["colour"]]) for c in content.colours["colours"]]
    items = content.items["items"]
    trend = content.trend["years"]
    sat = content.satisfaction
    vio = content.violations
    kinds = content.complaints["kinds"]
    return {
        "colours": svg.donut(colour_parts, title=_("四色分布（家）")),
        "distribution": svg.bar_chart([b["label"] for b in content.distribution["bins"]],
                                      [(_("机构数"), [b["count"] for b in content.distribution["bins"]], "#b3261e")],
                                      title=_("总分分布（家）"), width=320),
        "items": svg.bar_chart([str(i["number"]) for i in items],
                               [(_("满分"), [i["maximum"] for i in items], "#cfd8dc"),
                                (_("平均分"), [i["average"] for i in items], "#b3261e"),
                                (_("最高分"), [i["best"] for i in items], "#1565c0")],
                               title=_("10 项创建规范：平均分与满分"), width=660),
        "trend": svg.bar_chart([str(t["year"]) for t in trend],
                               [(_("平均总分"), [t["mean_total"] for t in trend], "#1565c0")],
                               title=_("历年平均总分"), width=320),
        "complaints": svg.bar_chart(months, [(k["label"], content.complaints["series"][k["kind"]],
                                              svg.SERIES_HEX[n]) for n, k in enumerate(kinds)],
                                    title=_("举报投诉按月分布（件）"), width=660),
        "satisfaction": svg.line_chart(months, [(_year(content.year), [m["rate"] for m in sat["months"]], "#b3261e"),
                                                (_year(sat["previous_year"]),
                                                 [m["previous_rate"] for m in sat["months"]], "#90a4ae")],
                                       title=_("满意率按月（%）"), width=660, high=100),
        "violations": svg.bar_chart(months, [(_year(content.year), [m["count"] for m in vio["months"]], "#b3261e"),
                                             (_year(vio["previous_year"]), [m["previous"] for m in vio["months"]],
                                              "#90a4ae")], title=_("员工违规件数按月"), width=660),
    }


def render_pdf(content: ReportContent) -> bytes:
    """The PDF: cover, summary figures, charts, ranking, red-line list, complaints and satisfaction."""
    from weasyprint import HTML  # imported here: it loads pango through cffi

    # The footer's page number is a CSS counter: the words around it from one msgid.
    before, _page, after = _("第 {page} 页").partition("{page}")
    html = render_to_string("dashboards/report/annual.html", {"c": content, "signed": figures.signed,
                                                              "page_before": before, "page_after": after})
    out = io.BytesIO()
    HTML(string=html, base_url=None).write_pdf(out)
    return out.getvalue()


def _number(value):
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def render_xlsx(content: ReportContent) -> bytes:
    """The xlsx pack: summary, results, per-indicator detail, complaints, satisfaction, violations, warnings,
    rectifications (per institution and clause), training completion and risk alerts (counts only)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from core.exports import append_row

    book = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, header: list[str], rows: list[list], first: bool = False):
        ws = book.active if first else book.create_sheet()
        ws.title = title
        append_row(ws, header)
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            append_row(ws, [_number(v) if not isinstance(v, bool) else (_("是") if v else _("否")) for v in row])
        for index, name in enumerate(header, 1):
            ws.column_dimensions[get_column_letter(index)].width = max(10, min(40, len(str(name)) * 2 + 4))
        ws.freeze_panes = "A2"
        return ws

    c = content
    colours = {x["colour"]: x for x in c.colours["colours"]}
    sat, vio = c.satisfaction, c.violations
    sheet(_("汇总"), [_("指标"), _("数值")], [
        [_("行政区"), _("%(name)s（%(code)s）") % {"name": c.district.name, "code": c.district.code}],
        [_("年度"), c.year],
        [_("有结果机构数"), c.colours["institutions"]], [_("平均总分"), c.colours["mean_total"]],
        *[[_("%(colour)s色机构数") % {"colour": colours[k]["label"]}, colours[k]["count"]] for k in figures.COLOURS],
        *[[_("%(colour)s色占比（%%）") % {"colour": colours[k]["label"]}, colours[k]["share"]]
          for k in figures.COLOURS],
        [_("触碰红线机构数"), c.colours["red_lines"]],
        [_("举报投诉件数"), c.complaints["total"]], [_("已出结论件数"), c.complaints["concluded"]],
        [_("属实率（%）"), c.complaints["substantiation_rate"]],
        [_("平均办理天数"), c.complaints["average_handling_days"]],
        [_("满意率（%）"), sat["rate"]],
        [_("%(year)s年满意率（%%）") % {"year": sat["previous_year"]}, sat["previous_rate"]],
        [_("满意率同比（百分点）"), sat["change"]],
        [_("员工违规件数"), vio["count"]],
        [_("%(year)s年员工违规件数") % {"year": vio["previous_year"]}, vio["previous"]],
        [_("员工违规同比（%）"), vio["change"]],
        [_("警示信息知悉率（%）"), c.acknowledgements["acknowledged_rate"]],
        [_("督查发现问题数"), c.rectifications.get("total")], [_("逾期未整改"), c.rectifications.get("overdue")],
        [_("按期整改率（%）"), c.rectifications.get("on_time_rate")],
        [_("员工培训完成率（%）"), c.trainings.get("rate")],
        [_("风险预警数"), c.risk.get("total")], [_("风险预警逾期未处理"), c.risk.get("overdue")],
        [_("风险预警确认率（%）"), c.risk.get("confirmed_rate")],
        [_("生成时间"), c.generated_at.strftime("%Y-%m-%d %H:%M")],
    ], first=True)
    sheet(_("积分排名"), [_("区内排名"), _("区内机构数"), _("区内类别排名"), _("机构编码"), _("机构名称"), _("类别"),
                      _("基础分"), _("加分"), _("扣分"), _("总分"), _("颜色"), _("红线"), _("状态"), _("上年总分"),
                      _("同比")],
          [[r["rank"], r["of"], r["category_rank"], r["code"], r["name"], r["category_label"], r["basic"], r["bonus"],
            r["deduction"], r["total"], r["colour_label"], r["red_line"], r["status_label"], r["previous_total"],
            r["change"]] for r in c.ranking])
    keys = [i["key"] for i in c.indicators]
    sheet(_("分项明细"), [_("机构编码"), _("机构名称"), *[i["label"] for i in c.indicators]],
          [[r["code"], r["name"], *[r["values"].get(key) for key in keys]] for r in c.indicator_rows])
    sheet(_("分项得分"), [_("项号"), _("项目"), _("满分"), _("平均分"), _("最高分"), _("得分率（%）")],
          [[i["number"], i["title"], i["maximum"], i["average"], i["best"], i["share"]] for i in c.items["items"]])
    kinds = c.complaints["kinds"]
    sheet(_("投诉按月"), [_("月份"), *[k["label"] for k in kinds], _("合计")],
          [[m, *[c.complaints["series"][k["kind"]][m - 1] for k in kinds],
            sum(c.complaints["series"][k["kind"]][m - 1] for k in kinds)] for m in range(1, 13)])
    sheet(_("投诉按机构"), [_("机构编码"), _("机构名称"), _("合计"), _("评价"), _("意见建议"), _("投诉"), _("举报"),
                       _("属实"), _("部分属实"), _("不属实"), _("属实率（%）")],
          [[r["code"], r["name"], r["total"], r["ratings"], r["suggestions"], r["complaints"], r["reports"],
            r["substantiated"], r["partially"], r["unsubstantiated"], r["substantiation_rate"]]
           for r in c.complaints_by_institution])
    before = sat["previous_year"]
    sheet(_("满意度"), [_("月份"), *[label % {"year": y} for y in (c.year, before)
                                    for label in (_("%(year)s年评价数"), _("%(year)s年满意率（%%）"))],
                     _("同比（百分点）")],
          [[m["month"], m["rated"], m["rate"], m["previous_rated"], m["previous_rate"], m["change"]]
           for m in sat["months"]])
    sheet(_("员工违规"), [_("月份"), _year(c.year), _year(vio["previous_year"])],
          [[m["month"], m["count"], m["previous"]] for m in vio["months"]])
    sheet(_("警示知悉"), [_("警示信息"), _("发布日期"), _("送达"), _("已知悉"), _("知悉率（%）")],
          [[w["title"], w["publish_at"], w["delivered"], w["acknowledged"], w["acknowledged_rate"]]
           for w in c.acknowledgements["warnings"]])
    rect = c.rectifications
    rect_header = [_("问题数"), _("整改中"), _("待审核"), _("逾期未整改"), _("已销号"), _("按期销号"),
                   _("按期整改率（%）")]

    def rect_values(r: dict) -> list:
        return [r["total"], r["open"], r["reported"], r["overdue"], r["closed"], r["closed_on_time"],
                r["on_time_rate"]]

    sheet(_("督查整改"), [_("机构编码"), _("机构名称"), *rect_header],
          [[r["code"], r["name"], *rect_values(r)] for r in rect.get("institutions", [])]
          + ([["", _("合计"), *rect_values(rect)]] if rect else []))
    # The clause as text ("第1.10条"): a bare "1.10" would be read as the number 1.1.
    sheet(_("整改按条款"), [_("条款"), *rect_header],
          [[_("第%(clause)s条") % {"clause": r["clause"]}, *rect_values(r)] for r in rect.get("clauses", [])])
    sheet(_("培训完成率"), [_("机构编码"), _("机构名称"), _("在职员工"), _("已完成"), _("完成率（%）")],
          [[r["code"], r["name"], r["employees"], r["completed"], r["rate"]] for r in
           c.trainings.get("institutions", [])])
    risk = c.risk
    statuses = [s["label"] for s in risk.get("by_status", [])]
    rules_ = [f"{r['rule']} {r['title']}" for r in risk.get("by_rule", [])]
    sheet(_("风险预警"), [_("机构编码"), _("机构名称"), _("预警数"), *statuses, *rules_, _("逾期未处理"), _("已处理"),
                      _("平均处理天数"), _("确认率（%）")],
          [[r["code"], r["name"], r["total"], *[x["count"] for x in r["by_status"]],
            *[x["count"] for x in r["by_rule"]], r["overdue"], r["closed"], r["avg_review_days"],
            r["confirmed_rate"]] for r in risk.get("institutions", [])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
