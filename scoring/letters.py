"""The letters (结果运用函) of a published district-year, one per use: their rows, the xlsx and the PDF.

Rendering only; `scoring.services.generate_letters` stores them and `record_letter_dispatch` logs who
got or fetched which. The PDF is WeasyPrint like the annual report (dashboards/report.py).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from institutions.models import District

from . import rules
from .models import Colour, LinkageUse, Result


@dataclass
class LetterRow:
    rank: int
    code: str
    name: str
    category: str
    colour: str
    red_line: bool
    total: str
    use_code: str
    label: str
    points: str


def letter_rows(district: District, year: int, use: str) -> list[LetterRow]:
    """Every institution of the district's year, by stored rank, with the use's code, label and points."""
    results = (Result.objects.filter(district=district, year=year).select_related("institution")
               .order_by("rank", "institution__code"))
    code_field = "fiscal_tender" if use == "fiscal_tender" else use
    rows = []
    for r in results:
        points = getattr(r, f"{use}_points")
        rows.append(LetterRow(
            rank=r.rank, code=r.institution.code, name=r.institution.name,
            category=r.institution.get_category_display(), colour=Colour(r.colour).label, red_line=r.red_line,
            total=f"{r.total:.2f}", use_code=getattr(r, code_field),
            label=(r.linkage_labels or {}).get(use) or getattr(r, code_field),
            points=f"{points:+.2f}" if points else "0.00"))
    return rows


def letter_number(district: District, year: int, serial: int) -> str:
    return f"{district.name}清廉评价函〔{year}〕{serial}号"  # i18n-exempt: the official number stored on the letter


def render_xlsx(letter, rows: list[LetterRow]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from core.exports import append_row

    book = Workbook()
    ws = book.active
    ws.title = _("结果运用")
    use_label = LinkageUse(letter.use).label
    append_row(ws, [letter.number])
    append_row(ws, [_("致：%(recipient)s") % {"recipient": letter.recipient}, _("用途：%(use)s") % {"use": use_label},
                    _("年度：%(year)s") % {"year": letter.year},
                    _("发布：%(day)s") % {"day": f"{letter.published_at:%Y-%m-%d}"}])
    append_row(ws, [_("排名"), _("机构编码"), _("机构名称"), _("类别"), _("颜色"), _("触碰红线"), _("总分"),
                    _("运用意见"), _("代码"), _("加减分")])
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for r in rows:
        append_row(ws, [r.rank, r.code, r.name, r.category, r.colour, _("是") if r.red_line else _("否"), r.total,
                        r.label, r.use_code, r.points])
    for column, width in zip("ABCDEFGHIJ", (6, 12, 30, 10, 6, 8, 8, 20, 14, 8), strict=True):
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render_html(letter, rows: list[LetterRow]) -> str:
    return render_to_string("scoring/letters/letter.html", {
        "letter": letter, "district": letter.district, "year": letter.year, "rows": [
            {"rank": r.rank, "name": r.name, "category": r.category, "colour": r.colour, "red_line": r.red_line,
             "total": r.total, "label": r.label, "code": r.use_code, "points": r.points} for r in rows],
        "use_label": LinkageUse(letter.use).label, "red_lines": sum(1 for r in rows if r.red_line)})


def render_pdf(letter, rows: list[LetterRow]) -> bytes:
    from weasyprint import HTML  # imported here: it loads pango through cffi

    html = render_html(letter, rows)
    out = io.BytesIO()
    HTML(string=html, base_url=None).write_pdf(out)
    return out.getvalue()


def default_recipient(use: str) -> str:
    from django.conf import settings

    names = getattr(settings, "SCORING_LETTER_RECIPIENTS", {}) or {}
    return names.get(use) or DEFAULT_RECIPIENTS[use]


# The recipient is stored on each letter (and printed on it) as the addressee's official name.
DEFAULT_RECIPIENTS = {  # i18n-exempt: official names stored on the letters
    "fiscal_tender": "区财政局",
    "party_building": "区委组织部（区金融工委）",
    "performance_appraisal": "区考核办",
}
assert set(DEFAULT_RECIPIENTS) == set(rules.LINKAGE_USES)


def file_name(letter, fmt: str) -> str:
    stamp = letter.published_at if isinstance(letter.published_at, datetime) else None
    suffix = f"-{stamp:%Y%m%d}" if stamp else ""
    return f"linkage-{letter.district.code}-{letter.year}-{letter.use}{suffix}.{fmt}"
