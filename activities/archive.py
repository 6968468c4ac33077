"""The archive (档案) of an institution-year, or of every institution of a district-year: a zip with

    <机构编码 名称>/条款/<项.条 条款>/…   one folder per clause of the year's norms (even empty), holding the
                                         self sheet's evidence on that clause's indicators and the year's
                                         activities, trainings, showcases and accepted returns on it
    <机构>/条款/未对应条款/…              records on no clause, evidence of indicators without a clause
    <机构>/评分表/<来源>.xlsx             the sheets as filed (those the requester may read)
    <机构>/整改/…                         the year's rectification notices (PDF), 整改情况.xlsx (findings, replies,
                                         decisions) and the replies' evidence files
    index.xlsx                            every file once: path, kind, clauses, title, date, size, SHA-256

A record on several clauses is stored once, in its first clause's folder; the index names all its
clauses. Called by services.run_archive in the Celery task.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import zipfile
from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Activity, ArchiveJob, NoticeRecipient, ReturnStatus, SelfChosenAction, TrainingSession

UNMATCHED = gettext_lazy("未对应条款")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def safe_name(text: str, limit: int = 60) -> str:
    cleaned = _UNSAFE.sub("_", str(text)).strip(" .") or "_"
    return cleaned[:limit]


class _Zip:
    """The zip, written to a temporary file (a district's photos do not have to fit in memory)."""

    def __init__(self) -> None:
        self.buffer = tempfile.TemporaryFile()  # noqa: SIM115 (handed to the caller, who closes it)
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

    def close(self):
        from openpyxl import Workbook

        from core.exports import append_row

        wb = Workbook()
        ws = wb.active
        ws.title = "index"
        append_row(ws, [_("路径"), _("类别"), _("条款"), _("标题"), _("日期"), _("大小（字节）"), "SHA-256"])
        for row in self.index:
            append_row(ws, row)
        out = io.BytesIO()
        wb.save(out)
        self.zip.writestr("index.xlsx", out.getvalue())
        self.zip.close()
        self.buffer.seek(0)
        return self.buffer


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
    append_row(ws, [_("评分表"), sheet.get_source_display(), _("状态"), sheet.get_status_display(), _("提交时间"),
                    timezone.localtime(sheet.submitted_at).replace(tzinfo=None) if sheet.submitted_at else None])
    append_row(ws, [_("指标编码"), _("类型"), _("条款"), _("指标"), _("得分"), _("触碰红线"), _("说明"), _("佐证数")])
    for ind in indicators:
        entry = entries.get(ind.pk)
        append_row(ws, [ind.code, ind.get_kind_display(), _clause_label(ind.clause) if ind.clause_id else "",
                        ind.title, entry.points if entry else None,
                        (_("是") if entry.hit else _("否")) if entry and entry.hit is not None else "",
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
    clauses_dir = _("条款")
    folder_of = {c.pk: f"{prefix}{clauses_dir}/{safe_name(_clause_label(c) + ' ' + c.title, 50)}" for c in clauses}
    label_of = {c.pk: _clause_label(c) for c in clauses}
    for path in folder_of.values():
        z.folder(path)
    unmatched = f"{prefix}{clauses_dir}/{UNMATCHED}"
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
            z.add(f"{folder}/" + _("佐证-{code}-{name}").format(code=ev.entry.indicator.code,
                                                                name=safe_name(ev.original_name)), data,
                  _("佐证（{source}）").format(source=ev.entry.sheet.get_source_display()), labels, ev.original_name,
                  timezone.localtime(ev.uploaded_at).date())
        indicators = list(Indicator.objects.filter(scheme=assessment.scheme).select_related("clause__item")
                          .order_by("position", "code"))
        sheets_dir = _("评分表")
        z.folder(f"{prefix}{sheets_dir}")
        for sheet in assessment.sheets.filter(source__in=sources).prefetch_related("entries__evidence"):
            z.add(f"{prefix}{sheets_dir}/{sheet.get_source_display()}.xlsx", _sheet_xlsx(sheet, indicators),
                  sheets_dir, "", sheet.get_source_display(),
                  timezone.localtime(sheet.submitted_at).date() if sheet.submitted_at else None)

    # The year's records, each once, in its first clause's folder.
    def record(source: str, obj, files=()):
        title, rows, clause_ids = _evidence_record(source, obj.pk, institution.pk, year)
        folder, labels = place(clause_ids)
        kind = {"activity": _("活动"), "training": _("培训"), "showcase": _("样板"), "return": _("报送")}[source]
        stem = f"{folder}/{kind}-{obj.pk}-{safe_name(title, 40)}"
        on = dict(rows).get(_("日期")) or dict(rows).get(_("报送时间"))
        z.add(f"{stem}.xlsx", summary_xlsx(_("{kind}：{title}").format(kind=kind, title=title), rows), kind, labels,
              title, on)
        for name, field in files:
            data = _read(field)
            if data is not None:
                z.add(f"{stem}-{safe_name(name, 40)}", data, _("{kind}附件").format(kind=kind), labels, name, on)

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

    _rectifications(z, institution, year, prefix)


def _rectifications(z: _Zip, institution, year: int, prefix: str) -> None:
    """The year's rectification notices (整改通知书, inspections' numbered PDFs), a table of the findings
    with the institution's replies and the decisions, and the replies' evidence files."""
    from openpyxl import Workbook

    from core.exports import append_row
    from inspections.models import Finding, Visit
    from tracking.models import EvidenceFile, Reply

    folder = prefix + _("整改")
    z.folder(folder)
    from inspections import services as inspection_services

    for visit in Visit.objects.filter(institution=institution, visited_on__year=year,
                                      notice_seq__isnull=False).order_by("visited_on", "pk"):
        data = inspection_services.notice_pdf(visit)  # the archived notice (rendered once if missing)
        name = safe_name(visit.notice_number or _("督查{pk}").format(pk=visit.pk), 40)
        z.add(f"{folder}/" + _("整改通知书-{name}.pdf").format(name=name), data, _("整改通知书"), "",
              visit.notice_number, visit.visited_on)
    findings = list(Finding.objects.filter(institution=institution, year=year)
                    .select_related("visit", "tracked_item").order_by("visit__visited_on", "pk"))
    if not findings:
        return
    replies: dict[int, list] = {}
    for reply in Reply.objects.filter(item_id__in=[f.tracked_item_id for f in findings]).order_by("created_at", "pk"):
        replies.setdefault(reply.item_id, []).append(reply)
    wb = Workbook()
    ws = wb.active
    ws.title = _("整改")
    append_row(ws, [_("督查日期"), _("通知书文号"), _("条款"), _("严重程度"), _("问题描述"), _("整改期限"), _("状态"),
                    _("退回次数"), _("整改报告")])
    for f in findings:
        item = f.tracked_item
        late = _("（逾期）")
        text = "\n".join(_("{day}{late}：{measures}").format(
            day=f"{timezone.localtime(r.created_at):%Y-%m-%d}", late="" if r.on_time else late, measures=r.measures)
            for r in replies.get(item.pk, []))
        append_row(ws, [f.visit.visited_on, f.visit.notice_number, f.clause_number, f.get_severity_display(),
                        f.description, item.due_on, item.get_status_display(), item.returns, text])
    out = io.BytesIO()
    wb.save(out)
    summary = _("整改情况")
    z.add(f"{folder}/{summary}.xlsx", out.getvalue(), summary, "", summary, None)
    for ev in EvidenceFile.objects.filter(reply__item_id__in=[f.tracked_item_id for f in findings]).select_related(
            "reply").order_by("pk"):
        data = _read(ev.file)
        if data is not None:
            z.add(f"{folder}/" + _("整改报告附件-{reply}-{name}").format(reply=ev.reply_id,
                                                                       name=safe_name(ev.name, 40)),
                  data, _("整改报告附件"), "", ev.name, timezone.localtime(ev.reply.created_at).date())


def build(job: ArchiveJob, progress: Callable[[int], None]):
    """(the zip as an open temporary file, the number of files in it, index.xlsx included); the caller
    closes the file."""
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
