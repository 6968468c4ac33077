"""The archive (档案) of an institution-year, or of every institution of a district-year: a zip with

    <机构编码 名称>/条款/<项.条 条款>/…   one folder per clause of the year's norms (even empty), holding the
                                         self sheet's evidence on that clause's indicators and the year's
                                         activities, trainings, showcases and accepted returns on it
    <机构>/条款/未对应条款/…              records on no clause, evidence of indicators without a clause
    <机构>/评分表/<来源>.xlsx             the sheets as filed (those the requester may read)
    <机构>/整改/…                         rectification notices and replies, when the inspections app offers them
    index.xlsx                            every file once: path, kind, clauses, title, date, size, SHA-256

A record on several clauses is stored once, in its first clause's folder; the index names all its
clauses. Called by services.run_archive in the Celery task.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable

from django.utils import timezone

from .models import Activity, ArchiveJob, NoticeRecipient, ReturnStatus, SelfChosenAction, TrainingSession

UNMATCHED = "未对应条款"
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_name(text: str, limit: int = 60) -> str:
    cleaned = _UNSAFE.sub("_", str(text)).strip(" .") or "_"
    return cleaned[:limit]


class _Zip:
    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.zip = zipfile.ZipFile(self.buffer, "w", zipfile.ZIP_DEFLATED)
        self.paths: set[str] = set()
        self.index: list[list] = []

    def folder(self, path: str) -> None:
        path = path.rstrip("/") + "/"
        if path not in self.paths:
            self.paths.add(path)
            self.zip.writestr(path, b"")

    def add(self, path: str, data: bytes, kind: str, clauses: str, title: str, on) -> str:
        stem, dot, ext = path.rpartition(".")
        candidate, n = path, 1
        while candidate in self.paths:  # two files of one name: keep both, numbered
            n += 1
            candidate = f"{stem}({n}).{ext}" if dot else f"{path}({n})"
        self.paths.add(candidate)
        self.zip.writestr(candidate, data)
        self.index.append([candidate, kind, clauses, title, on, len(data), hashlib.sha256(data).hexdigest()])
        return candidate

    def close(self) -> bytes:
        from openpyxl import Workbook

        from core.exports import append_row

        wb = Workbook()
        ws = wb.active
        ws.title = "index"
        append_row(ws, ["路径", "类别", "条款", "标题", "日期", "大小（字节）", "SHA-256"])
        for row in self.index:
            append_row(ws, row)
        out = io.BytesIO()
        wb.save(out)
        self.zip.writestr("index.xlsx", out.getvalue())
        self.zip.close()
        return self.buffer.getvalue()


def _read(field) -> bytes | None:
    try:
        with field.open("rb") as fh:
            return fh.read()
    except (OSError, ValueError):
        return None


def _clause_label(clause) -> str:
    return clause.number


def _sheet_xlsx(sheet, indicators) -> bytes:
    from openpyxl import Workbook

    from core.exports import append_row

    entries = {e.indicator_id: e for e in sheet.entries.all()}
    wb = Workbook()
    ws = wb.active
    ws.title = "sheet"
    append_row(ws, ["评分表", sheet.get_source_display(), "状态", sheet.get_status_display(), "提交时间",
                    timezone.localtime(sheet.submitted_at).replace(tzinfo=None) if sheet.submitted_at else None])
    append_row(ws, ["指标编码", "类型", "条款", "指标", "得分", "触碰红线", "说明", "佐证数"])
    for ind in indicators:
        entry = entries.get(ind.pk)
        append_row(ws, [ind.code, ind.get_kind_display(), _clause_label(ind.clause) if ind.clause_id else "",
                        ind.title, entry.points if entry else None,
                        ("是" if entry.hit else "否") if entry and entry.hit is not None else "",
                        entry.note if entry else "", entry.evidence.count() if entry else 0])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _institution(z: _Zip, job: ArchiveJob, institution, prefix: str) -> None:
    from scoring import selectors as scoring_selectors
    from scoring.models import Assessment, Evidence, Indicator

    from .services import _evidence_record, clauses_for, summary_xlsx

    year = job.year
    clauses = list(clauses_for(institution.district_id, year))
    folder_of = {c.pk: f"{prefix}条款/{safe_name(_clause_label(c) + ' ' + c.title, 50)}" for c in clauses}
    label_of = {c.pk: _clause_label(c) for c in clauses}
    for path in folder_of.values():
        z.folder(path)
    unmatched = f"{prefix}条款/{UNMATCHED}"
    z.folder(unmatched)

    def place(clause_ids) -> tuple[str, str]:
        ordered = [c.pk for c in clauses if c.pk in set(clause_ids)]
        return (folder_of[ordered[0]] if ordered else unmatched), "、".join(label_of[c] for c in ordered)

    # The self sheet's evidence, on its indicator's clause.
    assessment = Assessment.objects.filter(institution=institution, year=year).select_related(
        "institution", "scheme").first()
    if assessment is not None:
        sources = scoring_selectors.visible_sources(job.created_by, assessment) if job.created_by else ["self"]
        for ev in (Evidence.objects.filter(entry__sheet__assessment=assessment, entry__sheet__source__in=sources)
                   .select_related("entry__indicator", "entry__sheet").order_by("pk")):
            data = _read(ev.file)
            if data is None:
                continue
            folder, labels = place([ev.entry.indicator.clause_id] if ev.entry.indicator.clause_id else [])
            z.add(f"{folder}/佐证-{ev.entry.indicator.code}-{safe_name(ev.original_name)}", data,
                  f"佐证（{ev.entry.sheet.get_source_display()}）", labels, ev.original_name,
                  timezone.localtime(ev.uploaded_at).date())
        indicators = list(Indicator.objects.filter(scheme=assessment.scheme).select_related("clause__item")
                          .order_by("position", "code"))
        z.folder(f"{prefix}评分表")
        for sheet in assessment.sheets.filter(source__in=sources).prefetch_related("entries__evidence"):
            z.add(f"{prefix}评分表/{sheet.get_source_display()}.xlsx", _sheet_xlsx(sheet, indicators),
                  "评分表", "", sheet.get_source_display(),
                  timezone.localtime(sheet.submitted_at).date() if sheet.submitted_at else None)

    # The year's records, each once, in its first clause's folder.
    def record(source: str, obj, files=()):
        title, rows, clause_ids = _evidence_record(source, obj.pk, institution.pk, year)
        folder, labels = place(clause_ids)
        kind = {"activity": "活动", "training": "培训", "showcase": "样板", "return": "报送"}[source]
        stem = f"{folder}/{kind}-{obj.pk}-{safe_name(title, 40)}"
        on = dict(rows).get("日期") or dict(rows).get("报送时间")
        z.add(f"{stem}.xlsx", summary_xlsx(f"{kind}：{title}", rows), kind, labels, title, on)
        for name, field in files:
            data = _read(field)
            if data is not None:
                z.add(f"{stem}-{safe_name(name, 40)}", data, f"{kind}附件", labels, name, on)

    for a in Activity.objects.filter(institution=institution, year=year).prefetch_related("files").order_by(
            "held_on", "pk"):
        record("activity", a, [(f.original_name, f.file) for f in a.files.all()])
    for t in TrainingSession.objects.filter(institution=institution, year=year).order_by("held_on", "pk"):
        record("training", t)
    for s in SelfChosenAction.objects.filter(institution=institution, year=year, is_showcase=True).order_by("pk"):
        record("showcase", s)
    for r in NoticeRecipient.objects.filter(institution=institution, return_status=ReturnStatus.ACCEPTED,
                                            notice__published_at__year=year).order_by("pk"):
        record("return", r, [(r.return_file_name, r.return_file)] if r.return_file else [])

    # Rectification notices and replies, when the inspections app offers them.
    try:
        from inspections import selectors as inspection_selectors
    except ImportError:
        inspection_selectors = None
    archive_files = getattr(inspection_selectors, "archive_files", None)
    if archive_files is not None:
        z.folder(f"{prefix}整改")
        for name, data, title, on in archive_files(institution, year):
            z.add(f"{prefix}整改/{safe_name(name)}", data, "整改", "", title, on)


def build(job: ArchiveJob, progress: Callable[[int], None]) -> tuple[bytes, int]:
    """The zip's bytes and the number of files in it (index.xlsx included)."""
    from institutions.models import Institution

    z = _Zip()
    if job.institution_id:
        _institution(z, job, job.institution, "")
    else:
        institutions = list(Institution.objects.filter(district_id=job.district_id, is_active=True).order_by("code"))
        for n, inst in enumerate(institutions, start=1):
            _institution(z, job, inst, f"{safe_name(inst.code + ' ' + inst.name, 80)}/")
            progress(int(n * 100 / max(len(institutions), 1)))
    count = len(z.index) + 1
    return z.close(), count
