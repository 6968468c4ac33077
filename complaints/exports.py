"""Statistics as xlsx (several sheets) or csv (the per-institution table). No personal data."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.styles import Font

from core.export_jobs import ExportFile
from core.exports import append_row, csv_writer

from .models import Complaint
from .selectors import Statistics

STATS_KIND = "complaints.statistics"  # its background export (core.export_jobs, registered in ComplaintsConfig.ready)
FORMATS = ("xlsx", "csv")

INSTITUTION_COLUMNS = [
    ("institution__code", gettext_lazy("机构编码")),
    ("institution__name", gettext_lazy("机构名称")),
    ("total", gettext_lazy("合计")),
    ("ratings", gettext_lazy("评价")),
    ("suggestions", gettext_lazy("意见建议")),
    ("complaints", gettext_lazy("投诉")),
    ("reports", gettext_lazy("举报")),
    ("substantiated", gettext_lazy("属实")),
    ("partially", gettext_lazy("部分属实")),
    ("unsubstantiated", gettext_lazy("不属实")),
    ("substantiation_rate", gettext_lazy("查实率(%)")),
    ("avg_rating", gettext_lazy("平均评分")),
]


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value, 2)
    return value if isinstance(value, int | str) else str(value)


def institution_rows(stats: Statistics) -> list[list]:
    return [[_cell(row.get(key)) for key, _label in INSTITUTION_COLUMNS] for row in stats.by_institution]


def summary_rows(stats: Statistics) -> list[list]:
    kinds = dict(Complaint.Kind.choices)
    outcomes = dict(Complaint.Outcome.choices)
    rows = [[_("年度"), stats.year], [_("受理总数"), stats.total]]
    rows += [[_("类型：{kind}").format(kind=kinds[k]), stats.by_kind.get(k, 0)] for k in kinds]
    rows += [[_("结论：{outcome}").format(outcome=outcomes[o]), stats.by_outcome.get(o, 0)] for o in outcomes]
    rows += [[_("已出结论"), stats.concluded], [_("查实率(%)"), _cell(stats.substantiation_rate)],
             [_("平均办理天数"), _cell(stats.average_handling_days)], [_("按期办结"), stats.on_time],
             [_("按期办结率(%)"), _cell(stats.on_time_rate)]]
    return rows


def statistics_file(stats: Statistics, fmt: str, satisfaction: dict | None = None,
                    names: dict[int, tuple[str, str]] | None = None) -> tuple[bytes, str]:
    """`satisfaction`: (institution id, month) → {"rated", "satisfied", "rate"}; `names`: id → (code, name)."""
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv_writer(out)
        writer.writerow([str(label) for _key, label in INSTITUTION_COLUMNS])
        writer.writerows(institution_rows(stats))
        return out.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
    # Write-only: rows go straight to the sheets' temporary files (memory bounded, linear); the
    # headers are bold as they are written, a write-only sheet cannot be styled afterwards.
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    sheet = book.create_sheet(_("概览"))
    for number, row in enumerate(summary_rows(stats)):
        append_row(sheet, row, font=bold if number == 0 else None)
    by_inst = book.create_sheet(_("按机构"))
    append_row(by_inst, [str(label) for _key, label in INSTITUTION_COLUMNS], font=bold)
    for row in institution_rows(stats):
        append_row(by_inst, row)
    by_month = book.create_sheet(_("按月份"))
    append_row(by_month, [_("月份"), _("受理数"), _("满意度参评数"), _("满意数"), _("满意率(%)")], font=bold)
    for month in range(1, 13):
        sat = stats.satisfaction_by_month.get(month, {})
        append_row(by_month, [month, stats.by_month.get(month, 0), sat.get("rated", 0), sat.get("satisfied", 0),
                              _cell(sat.get("rate"))])
    if satisfaction is not None:
        sat = book.create_sheet(_("满意率（机构×月）"))
        append_row(sat, [_("机构编码"), _("机构名称"), *[_("{month}月").format(month=m) for m in range(1, 13)]],
                   font=bold)
        for inst_id in sorted({i for i, _month in satisfaction}, key=lambda i: (names or {}).get(i, ("", ""))[0]):
            code, name = (names or {}).get(inst_id, ("", ""))
            append_row(sat, [code, name,
                             *[_cell(satisfaction.get((inst_id, m), {}).get("rate")) for m in range(1, 13)]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stats_year(query) -> int:
    """The statistics' year from a query string (this year by default); ValueError out of 2000–2100."""
    from django.utils import timezone

    year = int(query.get("year") or timezone.localdate().year)
    if not 2000 <= year <= 2100:
        raise ValueError(year)
    return year


def statistics_export(user, query, progress=None) -> ExportFile:
    """The statistics `user` may read, for the year, district, category and format of `query` (the
    export page's query string), as a file: the page's small export and the background export alike.
    NotFound for a district the user may not read, PermissionError for a user who reads none."""
    from institutions.models import Institution

    from . import selectors

    scope = selectors.stats_scope(user, query.get("district", ""))
    if scope is None:
        raise PermissionError("no statistics for this user")
    year, fmt = stats_year(query), query.get("format", "xlsx")
    if fmt not in FORMATS:
        raise ValueError(fmt)
    data = selectors.statistics(year, where=scope.where, category=query.get("category", ""))
    if progress is not None:
        progress(50)
    satisfaction = selectors.satisfaction_by_institution_month(year, where=scope.where)
    names = {i.pk: (i.code, i.name) for i in Institution.objects.filter(pk__in={k[0] for k in satisfaction})}
    if progress is not None:
        progress(70)
    content, content_type = statistics_file(data, fmt, satisfaction, names)
    return ExportFile(content, f"complaints-{year}.{fmt}", content_type)
