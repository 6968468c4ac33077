"""The activity ledger as xlsx (issue #16: exports in linear time).

Written in openpyxl's write-only mode (rows go straight to the sheet's temporary file, no cell grid
kept in memory), the activities read in chunks of 500 (one query and one clause prefetch a chunk),
the kind categories' labels resolved once rather than `get_category_display` per row. Every cell
goes through `core.exports.append_row` (formula injection neutralised)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from core.export_jobs import ExportFile
from core.exports import append_row

from .models import KindCategory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEDGER_KIND = "activities.ledger"  # its background export (core.export_jobs, registered in ActivitiesConfig.ready)
FILE_NAME = "activities.xlsx"
CHUNK = 500
HEADERS = [gettext_lazy("机构编码"), gettext_lazy("机构"), gettext_lazy("区县"), gettext_lazy("日期"),
           gettext_lazy("类型"), gettext_lazy("类别"), gettext_lazy("活动名称"), gettext_lazy("地点"),
           gettext_lazy("组织者"), gettext_lazy("参加人数"), gettext_lazy("对应条款"), gettext_lazy("附件数"),
           gettext_lazy("活动内容")]


def ledger_rows(activities: Iterable) -> Iterator[list]:
    """One row per activity (institution, district and kind joined, `clauses` prefetched, `files_count`
    annotated, as `selectors.activities` gives them)."""
    categories = {value: str(label) for value, label in KindCategory.choices}
    separator = _("、")
    for a in activities:
        inst = a.institution
        yield [inst.code, inst.name, inst.district.name, a.held_on, a.kind.name,
               categories.get(a.kind.category, a.kind.category), a.title, a.place, a.organiser,
               a.participant_count, separator.join(str(c.number) for c in a.clauses.all()), a.files_count,
               a.description]


def for_export(queryset):
    """The ledger's queryset read for the export: in chunks, the clauses alone prefetched (not their items)."""
    return queryset.prefetch_related(None).prefetch_related("clauses").iterator(chunk_size=CHUNK)


def ledger_xlsx(activities: Iterable) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("活动台账"))
    append_row(sheet, [str(h) for h in HEADERS])
    for row in ledger_rows(activities):
        append_row(sheet, row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ledger_file(user, query, progress=None) -> ExportFile:
    """The ledger `user` sees with the filters of `query` (the page's query string) as an xlsx file:
    the page's small export and the background export (`progress(percent)` after each chunk) alike."""
    from . import forms, selectors

    filters = forms.ledger_filters(query)
    activities = for_export(selectors.activities(user, filters))
    if progress is not None:
        activities = _reporting(activities, selectors.activities_count(user, filters), progress)
    return ExportFile(ledger_xlsx(activities), FILE_NAME, XLSX)


def _reporting(rows: Iterable, total: int, progress) -> Iterator:
    for number, row in enumerate(rows, 1):
        if number % CHUNK == 0:
            progress(90 * number // max(total, 1))
        yield row
