"""Reading CSV/XLSX files and all-or-nothing imports shared by commands, the admin and the API.

Every import validates the whole file first; if any row is bad, nothing is stored and each bad
row is reported with its line number in the file (the header is line 1) and the reason.
Management commands report the same way through `fail_on_problems` and `read_or_fail`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.management.base import CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from import_export.resources import Resource


class TabularError(Exception):
    """The file as a whole cannot be read (wrong format, no header, missing columns)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return _("第 {line} 行: {message}").format(line=self.line, message=self.message)


@dataclass
class ImportReport:
    problems: list[RowProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return _("新增 {created} 条，更新 {updated} 条，未变 {unchanged} 条").format(
            created=self.created, updated=self.updated, unchanged=self.unchanged)


def _clean_cell(value):
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float):
        # Spreadsheets store codes like 331004 and points like 36.5 as floats; keep the text people typed.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return "" if value is None else value


def _load_csv(text: str) -> tablib.Dataset:
    """What tablib's CSV loading gives (empty rows skipped, short rows padded to the header's width),
    except that a row with more cells than the header is reported with its line number instead of
    raising tablib's InvalidDimensions (a traceback). Trailing empty cells are not "more cells"."""
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[RowProblem] = []
    try:
        header = next(reader, [])
        dataset = tablib.Dataset(headers=header)
        width = len(header)
        for row in reader:
            if not row:
                continue
            if any(str(cell).strip() for cell in row[width:]):
                problems.append(RowProblem(reader.line_num, _(
                    "有 {cells} 列，多于表头的 {width} 列（是否有多余的逗号，或含逗号的内容未加引号？）"
                ).format(cells=len(row), width=width)))
                continue
            dataset.append(row[:width] + [""] * (width - len(row)))
    except csv.Error as exc:
        raise TabularError(_("无法读取 CSV 文件（第 {line} 行）：{error}").format(
            line=reader.line_num, error=exc)) from exc
    if problems:
        shown = "；".join(str(p) for p in problems[:20])
        more = _("；另有 {n} 行同样有误").format(n=len(problems) - 20) if len(problems) > 20 else ""
        raise TabularError(_("CSV 文件各行列数不一致：{problems}").format(problems=shown + more))
    return dataset


def load_dataset(data: bytes, filename: str, required: Iterable[str] = ()) -> tablib.Dataset:
    """Parse an uploaded or local file into a Dataset with stripped header names and cells."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        try:
            raw = tablib.Dataset().load(io.BytesIO(data), format="xlsx")
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise TabularError(_("无法读取 Excel 文件：{error}").format(error=exc)) from exc
    elif suffix in (".csv", ".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TabularError(_("CSV 文件须为 UTF-8 编码（可带 BOM）")) from exc
        if not text.strip():
            raise TabularError(_("文件为空"))
        raw = _load_csv(text)
    else:
        raise TabularError(_("不支持的文件类型 {suffix}：请使用 .csv 或 .xlsx").format(
            suffix=suffix or _("（无扩展名）")))
    headers = [str(h or "").strip().lstrip("\ufeff") for h in (raw.headers or [])]
    if not any(headers):
        raise TabularError(_("文件缺少表头行"))
    missing = [c for c in required if c not in headers]
    if missing:
        raise TabularError(_("缺少列：{missing}；应有列：{required}").format(
            missing="、".join(missing), required=", ".join(required)))
    dataset = tablib.Dataset(headers=headers)
    for row in raw:
        cells = [_clean_cell(v) for v in row]
        if any(c not in ("", None) for c in cells):
            dataset.append(cells)
    return dataset


def read_path(path: str | Path, required: Iterable[str] = ()) -> tablib.Dataset:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TabularError(_("无法打开文件 {path}：{error}").format(path=path, error=exc.strerror)) from exc
    return load_dataset(data, path.name, required)


def _validation_messages(error_dict: dict[str, list]) -> list[str]:
    out = []
    for name, errors in error_dict.items():
        prefix = "" if name == NON_FIELD_ERRORS else f"{name}: "
        out.extend(prefix + str(m) for m in errors)
    return out


def import_with_resource(resource: Resource, dataset: tablib.Dataset, **kwargs) -> ImportReport:
    """Import `dataset` through `resource` all-or-nothing; report every bad row with its line."""
    report = ImportReport()
    with transaction.atomic():
        result = resource.import_data(dataset, dry_run=False, use_transactions=False, raise_errors=False,
                                      **kwargs)
        for error in result.base_errors:
            report.problems.append(RowProblem(1, str(error.error)))
        for number, errors in result.row_errors():
            report.problems.append(RowProblem(number + 1, "；".join(str(e.error) for e in errors)))
        for invalid in result.invalid_rows:
            report.problems.append(RowProblem(invalid.number + 1, "；".join(
                _validation_messages(invalid.error_dict))))
        report.problems.sort(key=lambda p: p.line)
        if report.problems:
            transaction.set_rollback(True)
            return report
        report.created = result.totals.get("new", 0)
        report.updated = result.totals.get("update", 0)
        report.unchanged = result.totals.get("skip", 0)
    return report


# --- management commands -------------------------------------------------------------------------

def fail_on_problems(command, report: ImportReport, path: str) -> None:
    """An import command's end: every bad row on stderr and a failing exit, or nothing."""
    if report.ok:
        return
    for problem in report.problems:
        command.stderr.write(str(problem))
    raise CommandError(_("{path}：{n} 行有误，未导入任何数据。").format(path=path, n=len(report.problems)))


def read_or_fail(reader, *args):
    """`reader(*args)`, with a file that cannot be read reported as the command's error."""
    try:
        return reader(*args)
    except TabularError as exc:
        raise CommandError(str(exc)) from exc
