"""督查与整改: every write. Refusals are core.errors (400 bad input, 403 role, 404 scope, 409 state).

- record_visit / add_photos: the finance center or an inspector of the institution's district.
- add_finding: a clause of the district's norms for the visit's year ("3.2"), severity, description
  and a period in working days → a tracked item (tracking, kind `finding`) due that many working
  days after the visit; the visit's rectification notice gets its number with the first finding
  (per district and year: 路金清整〔2026〕7号).
- report / accept / return_finding: through tracking.services (its state rules and roles).
- confirm_bonus: a visit confirms a bonus indicator of the institution's year with its evidence.
- Plans: create_plan, add_plan_entry, import_plan (xlsx/csv, all-or-nothing via core.tabular).
- Stored figures (RectificationTally) are recounted for the institution and year after every
  change (tracking's listener) and nightly by `recount_all` (overdue moves with the calendar).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import locks, tabular
from core.errors import DomainError, NotAllowed, NotFound
from institutions import access
from institutions.models import District, Institution, Role
from scoring.models import Indicator, IndicatorKind, NormClause, Norms, Scheme
from tracking import services as tracking
from tracking.models import Status, TrackedItem

from . import photos as photo_rules
from . import rules
from .models import (
    BonusConfirmation,
    Finding,
    Plan,
    PlanEntry,
    RectificationTally,
    Severity,
    Visit,
    VisitKind,
    VisitPhoto,
)

logger = logging.getLogger(__name__)

SOURCE_APP = "inspections"
INSPECTOR_ROLES = (Role.FINANCE_CENTER, Role.INSPECTOR)


def may_inspect(user, district: District | int) -> bool:
    return access.acts_in(user, district, *INSPECTOR_ROLES)


def _require_inspector(user, district) -> None:
    if not may_inspect(user, district):
        raise NotAllowed(_("只有区金融工作中心或检查组可以记录督查。"))


def norms_for(district_id: int, year: int) -> Norms | None:
    """The district's own norms of the year, else the installation's template (API.md)."""
    rows = {n.district_id: n for n in Norms.objects.filter(Q(district_id=district_id) | Q(district__isnull=True),
                                                           year=year)}
    return rows.get(district_id) or rows.get(None)


def scheme_for(district_id: int, year: int) -> Scheme | None:
    return (Scheme.objects.filter(year=year, district_id=district_id).first()
            or Scheme.objects.filter(year=year, district__isnull=True).first())


def clause_of(district_id: int, year: int, number) -> NormClause:
    try:
        number = rules.clause_number(number)
    except ValueError as exc:
        raise DomainError(str(exc), field="clause") from None
    norms = norms_for(district_id, year)
    clause = norms and NormClause.objects.filter(norms=norms, number=number).first()
    if not clause:
        raise DomainError(_("{year}年度创建规范中没有第 {number} 条。").format(year=year, number=number),
                          field="clause")
    return clause


def institution_for(user, code: str) -> Institution:
    """The institution named by `code` among those the user may inspect (404 otherwise)."""
    code = (code or "").strip()
    if not code:
        raise DomainError(_("请填写机构编码。"), field="institution_code")
    districts = access.district_ids(user, *INSPECTOR_ROLES)
    qs = Institution.objects.select_related("district").filter(code=code, is_active=True)
    if districts is not None:
        qs = qs.filter(district_id__in=districts)
    institution = qs.first()
    if institution is None:
        raise NotFound(_("未找到该机构，或您无权检查。"))
    return institution


@dataclass
class VisitInput:
    visited_on: date
    kind: str = VisitKind.PLANNED
    team: list | str | None = None
    notes: str = ""
    people_met: str = ""
    joint_with_discipline: bool = False
    plan_entry_id: int | None = None


@transaction.atomic
def record_visit(user, institution: Institution, data: VisitInput, photos: Iterable = ()) -> Visit:
    _require_inspector(user, institution.district_id)
    if data.kind not in VisitKind.values:
        raise DomainError(_("检查方式须为 planned、unannounced 或 follow_up。"), field="kind")
    if not isinstance(data.visited_on, date):
        raise DomainError(_("请填写检查日期。"), field="visited_on")
    if not 2000 <= data.visited_on.year <= 2100:
        raise DomainError(_("检查日期须在2000年至2100年之间。"), field="visited_on")
    try:
        team = rules.team_list(data.team)
    except ValueError as exc:
        raise DomainError(str(exc), field="team") from None
    entry = None
    if data.plan_entry_id:
        entry = PlanEntry.objects.filter(pk=data.plan_entry_id, institution=institution).first()
        if entry is None:
            raise DomainError(_("计划条目与被检查机构不符。"), field="plan_entry")
    visit = Visit.objects.create(
        institution=institution, district_id=institution.district_id, visited_on=data.visited_on, kind=data.kind,
        joint_with_discipline=bool(data.joint_with_discipline), team=team, notes=(data.notes or "").strip(),
        people_met=(data.people_met or "").strip()[:300], plan_entry=entry,
        created_by=user if getattr(user, "pk", None) else None)
    add_photos(visit, user, photos)
    return visit


@transaction.atomic
def add_photos(visit: Visit, user, files: Iterable) -> list[VisitPhoto]:
    _require_inspector(user, visit.district_id)
    files = [f for f in files if f]
    if not files:
        return []
    start = (visit.photos.aggregate(m=Max("position"))["m"] or 0) + 1
    if start - 1 + len(files) > photo_rules.MAX_PHOTOS:
        raise DomainError(_("每次督查最多{n}张照片。").format(n=photo_rules.MAX_PHOTOS), field="photos")
    out = []
    for position, upload in enumerate(files, start=start):
        try:
            photo = photo_rules.process(upload.read(), getattr(upload, "name", ""))
        except photo_rules.PhotoRejected as exc:
            raise DomainError(str(exc), field="photos") from None
        row = VisitPhoto(visit=visit, position=position, content_type=photo.content_type, width=photo.width,
                         height=photo.height, original_sha256=photo.sha256, original_size=photo.size,
                         taken_at=photo.taken_at, place=photo.place)
        row.working.save(f"{visit.pk}-{position}.{photo.extension}", ContentFile(photo.working), save=False)
        row.sealed_original.save(f"{visit.pk}-{position}.sealed", ContentFile(photo.sealed), save=False)
        row.save()
        out.append(row)
    return out


def _period(value) -> int:
    from tracking import rules as tracking_rules

    try:
        return tracking_rules.check_working_days(value)
    except ValueError as exc:
        raise DomainError(str(exc), field="rectify_within") from None


def _number_notice(visit: Visit) -> None:
    if visit.notice_seq:
        return
    year = visit.visited_on.year
    # One number at a time per district and year: lock the district's row while counting.
    District.objects.select_for_update().filter(pk=visit.district_id).first()
    last = Visit.objects.filter(district_id=visit.district_id, notice_year=year).aggregate(m=Max("notice_seq"))["m"]
    visit.notice_year, visit.notice_seq = year, (last or 0) + 1
    prefix = rules.notice_prefix(visit.district.name, getattr(settings, "INSPECTIONS_NOTICE_PREFIXES", {}),
                                 visit.district.code)
    visit.notice_number = rules.notice_number(prefix, year, visit.notice_seq)
    visit.notice_issued_at = timezone.now()
    visit.save(update_fields=["notice_year", "notice_seq", "notice_number", "notice_issued_at"])


@transaction.atomic
def add_finding(visit: Visit, user, *, clause, description: str, severity: str, rectify_within) -> Finding:
    visit = Visit.objects.select_for_update().select_related("district", "institution").get(pk=visit.pk)
    _require_inspector(user, visit.district_id)
    description = (description or "").strip()
    problems = {}
    if not description:
        problems["description"] = _("请填写问题描述。")
    if severity not in Severity.values:
        problems["severity"] = _("严重程度须为 minor（一般）或 major（较重）。")
    if problems:
        field, message = next(iter(problems.items()))
        raise DomainError(message, field=field)
    days = _period(rectify_within)
    year = visit.visited_on.year
    norm_clause = clause_of(visit.district_id, year, clause)
    item = tracking.create_item(
        institution=visit.institution, kind=TrackedItem.Kind.FINDING,
        title=_("督查发现问题整改（第{number}条）：{description}").format(number=norm_clause.number,
                                                               description=description[:80]),
        detail=description,
        start=visit.visited_on, working_days=days, source_app=SOURCE_APP, actor=user)
    finding = Finding.objects.create(
        visit=visit, institution=visit.institution, district_id=visit.district_id, year=year, clause=norm_clause,
        clause_number=norm_clause.number, severity=severity, description=description, rectify_within=days,
        tracked_item=item, created_by=user if getattr(user, "pk", None) else None)
    TrackedItem.objects.filter(pk=item.pk).update(source_id=finding.pk)
    item.source_id = finding.pk
    _number_notice(visit)
    if visit.notice_pdf:
        # The archived notice lacks this finding: forgotten now, its file deleted once this commits (a
        # rollback keeps both), and rendered again below.
        stale = visit.notice_pdf.name
        Visit.objects.filter(pk=visit.pk).update(notice_pdf="")
        transaction.on_commit(lambda: Visit._meta.get_field("notice_pdf").storage.delete(stale))
    refresh_tally(visit.institution_id, year)
    # Rendered by a worker once this commits, so that the inspector's first download is the stored file
    # (a render takes 0.5–1 s); a download before that renders it itself.
    from core.queue import enqueue_after_commit

    from . import tasks

    enqueue_after_commit(tasks.render_notice, visit.pk)
    return finding


def report(finding: Finding, user, *, measures: str, files: Iterable = (), system: bool = False) -> Finding:
    tracking.report(finding.tracked_item, user, measures=measures, files=files, system=system)
    finding.tracked_item.refresh_from_db()
    return finding


def accept(finding: Finding, user, *, note: str = "") -> Finding:
    tracking.accept(finding.tracked_item, user, note=note)
    finding.tracked_item.refresh_from_db()
    return finding


def return_finding(finding: Finding, user, *, reason: str, rectify_within=None) -> Finding:
    tracking.return_item(finding.tracked_item, user, reason=reason, working_days=rectify_within)
    finding.tracked_item.refresh_from_db()
    return finding


@transaction.atomic
def confirm_bonus(visit: Visit, user, *, indicator_code: str, evidence: str) -> BonusConfirmation:
    _require_inspector(user, visit.district_id)
    evidence = (evidence or "").strip()
    if not evidence:
        raise DomainError(_("请填写加分项的佐证情况。"), field="evidence")
    year = visit.visited_on.year
    scheme = scheme_for(visit.district_id, year)
    indicator = scheme and Indicator.objects.filter(scheme=scheme, code=(indicator_code or "").strip(),
                                                    kind=IndicatorKind.BONUS).first()
    if not indicator:
        raise DomainError(_("{year}年度评价方案中没有该加分项。").format(year=year), field="indicator")
    row, created = BonusConfirmation.objects.get_or_create(
        institution=visit.institution, year=year, indicator=indicator,
        defaults={"visit": visit, "evidence": evidence, "created_by": user if getattr(user, "pk", None) else None})
    if not created:
        raise DomainError(_("该加分项本年度已确认。"), field="indicator")
    return row


# --- stored figures ----------------------------------------------------------------------------


# pg_advisory_xact_lock(namespace, key of institution and year): one recount of an institution's year at a time.
_TALLY_LOCK_NAMESPACE = 0x1A11


def refresh_tally(institution_id: int, year: int, today: date | None = None) -> None:
    """Recount the institution's year, per clause, from its findings and their tracked items.

    One recount of an institution's year at a time, until the writer's transaction ends: two items of
    the institution changed at once each counted only its own change (the other's was not committed
    yet), and the last to write the tally lost the other's. Now the second waits, then counts both."""
    with transaction.atomic():
        locks.hold(_TALLY_LOCK_NAMESPACE, locks.key_of(f"{institution_id}:{year}"))
        _refresh_tally(institution_id, year, today or timezone.localdate())


def _refresh_tally(institution_id: int, year: int, today: date) -> None:
    rows: dict[str, dict] = {}
    findings = Finding.objects.filter(institution_id=institution_id, year=year).select_related("tracked_item")
    district_id = None
    for finding in findings:
        district_id = finding.district_id
        item = finding.tracked_item
        row = rows.setdefault(finding.clause_number, {"total": 0, "open": 0, "overdue": 0, "reported": 0,
                                                      "closed": 0, "closed_on_time": 0})
        row["total"] += 1
        row[item.status] += 1
        if item.is_overdue(today):
            row["overdue"] += 1
        if item.status == Status.CLOSED and item.closed_on_time:
            row["closed_on_time"] += 1
    RectificationTally.objects.filter(institution_id=institution_id, year=year).exclude(
        clause_number__in=list(rows)).delete()
    for clause_number, values in rows.items():
        RectificationTally.objects.update_or_create(
            institution_id=institution_id, year=year, clause_number=clause_number,
            defaults={**values, "district_id": district_id, "counted_on": today})


def on_item_change(item: TrackedItem, action: str) -> None:
    """tracking's listener for items of findings: keep the stored figures exact."""
    if action == "created" or not item.source_id:
        return
    finding = Finding.objects.filter(pk=item.source_id).values("institution_id", "year").first()
    if finding:
        refresh_tally(finding["institution_id"], finding["year"])


def recount_all(today: date | None = None) -> int:
    """Nightly: recount every institution-year with findings (overdue moves with the calendar)."""
    pairs = Finding.objects.order_by().values_list("institution_id", "year").distinct()
    count = 0
    for institution_id, year in pairs:
        refresh_tally(institution_id, year, today)
        count += 1
    return count


# --- notices -----------------------------------------------------------------------------------


def notice_pdf(visit: Visit) -> bytes:
    """The visit's rectification notice (PDF), archived with the visit: rendered and stored when
    missing (first download, or after a finding was added), else the archived file."""
    visit = Visit.objects.select_related("district", "institution").get(pk=visit.pk)
    if not visit.notice_seq:
        raise NotFound(_("该次督查没有发现问题，未出具整改通知书。"))
    if visit.notice_pdf:
        try:
            with visit.notice_pdf.open("rb") as fh:
                return fh.read()
        except OSError:  # the archived file is gone (a lost store, a restore without files): render again
            logger.warning("visit %s: its archived notice %s cannot be read; rendered again", visit.pk,
                           visit.notice_pdf.name)
            Visit.objects.filter(pk=visit.pk, notice_pdf=visit.notice_pdf.name).update(notice_pdf="")
    return _render_and_store_notice(visit)


def _findings_mark(visit_id: int) -> tuple[int, int | None]:
    return tuple(Finding.objects.filter(visit_id=visit_id).aggregate(n=Count("id"), last=Max("id")).values())


def _render_and_store_notice(visit: Visit) -> bytes:
    """Render the notice and store it, unless a finding was added meanwhile (that one's own render
    stores the newer notice; this one is still what the caller asked for)."""
    from .notice import render_notice

    mark = _findings_mark(visit.pk)
    data = render_notice(visit)
    with transaction.atomic():
        locked = Visit.objects.select_for_update().get(pk=visit.pk)
        if not locked.notice_pdf and _findings_mark(visit.pk) == mark:
            locked.notice_pdf.save(f"{visit.district.code}-{visit.notice_year}-{visit.notice_seq}.pdf",
                                   ContentFile(data), save=True)
    return data


def prerender_notice(visit_id: int) -> bool:
    """The task's work: store the visit's notice when it has one and none is stored (True when
    rendered). Safe to run twice, or after the visit is gone."""
    visit = Visit.objects.select_related("district", "institution").filter(pk=visit_id).first()
    if visit is None or not visit.notice_seq or visit.notice_pdf:
        return False
    try:
        _render_and_store_notice(visit)
    except Exception:  # best effort: the finding stands, and a download renders the notice itself
        logger.exception("visit %s: its rectification notice could not be rendered in advance", visit_id)
        return False
    return True


# --- plans -------------------------------------------------------------------------------------


def _require_finance(user, district) -> None:
    if not access.is_finance_center(user, district):
        raise NotAllowed(_("只有区金融工作中心可以制定督查计划。"))


@transaction.atomic
def create_plan(user, district: District, year: int, title: str = "") -> Plan:
    _require_finance(user, district)
    plan, _created = Plan.objects.get_or_create(
        district=district, year=year,
        defaults={"title": title or _("{district}{year}年度清廉金融督查计划").format(district=district.name, year=year),
                  "created_by": user if getattr(user, "pk", None) else None})
    return plan


@transaction.atomic
def add_plan_entry(user, plan: Plan, *, institution_code: str, month, kind: str = VisitKind.PLANNED,
                   team: str = "", joint_with_discipline: bool = False, notes: str = "") -> PlanEntry:
    _require_finance(user, plan.district_id)
    institution = Institution.objects.filter(code=(institution_code or "").strip(),
                                             district_id=plan.district_id).first()
    if institution is None:
        raise DomainError(_("本区没有该机构。"), field="institution_code")
    try:
        month = int(month)
    except (TypeError, ValueError):
        month = 0
    if not 1 <= month <= 12:
        raise DomainError(_("月份须为1至12。"), field="month")
    if kind not in VisitKind.values:
        raise DomainError(_("检查方式无效。"), field="kind")
    entry, created = PlanEntry.objects.get_or_create(
        plan=plan, institution=institution, month=month,
        defaults={"kind": kind, "team": (team or "")[:200], "joint_with_discipline": joint_with_discipline,
                  "notes": (notes or "")[:300]})
    if not created:
        raise DomainError(_("该机构在该月已有计划。"), field="month")
    return entry


PLAN_COLUMNS = ("机构编码", "月份")  # i18n-exempt: the plan file's column headers, parsed
_KINDS_BY_LABEL = {str(label): value for value, label in VisitKind.choices}


def import_plan(user, plan: Plan, data: bytes, filename: str) -> tabular.ImportReport:
    """Rows 机构编码, 月份 [, 检查方式, 检查组, 会同纪委, 备注]; all or nothing."""
    _require_finance(user, plan.district_id)
    try:
        dataset = tabular.load_dataset(data, filename, PLAN_COLUMNS)
    except tabular.TabularError as exc:
        raise DomainError(str(exc), field="file") from None
    institutions = dict(Institution.objects.filter(district_id=plan.district_id).values_list("code", "pk"))
    existing = set(plan.entries.values_list("institution_id", "month"))
    report = tabular.ImportReport()
    rows = []
    seen = set()
    for line, row in enumerate(dataset.dict, start=2):
        code = str(row.get("机构编码") or "").strip()  # i18n-exempt: column header of the plan file
        institution_id = institutions.get(code)
        month = str(row.get("月份") or "").strip()  # i18n-exempt: column header of the plan file
        kind_text = str(row.get("检查方式") or "").strip()  # i18n-exempt: column header of the plan file
        kind = _KINDS_BY_LABEL.get(kind_text, kind_text or VisitKind.PLANNED)
        if institution_id is None:
            shown = code or _("（空）")
            report.problems.append(tabular.RowProblem(line, _("本区没有机构编码 {code}").format(code=shown)))
            continue
        if not month.isdigit() or not 1 <= int(month) <= 12:
            report.problems.append(tabular.RowProblem(line, _("月份须为1至12")))
            continue
        if kind not in VisitKind.values:
            report.problems.append(tabular.RowProblem(line, _("检查方式“{kind}”无效").format(kind=kind_text)))
            continue
        key = (institution_id, int(month))
        if key in seen or key in existing:
            report.problems.append(tabular.RowProblem(line, _("该机构在该月已有计划")))
            continue
        seen.add(key)
        joint = (  # i18n-exempt: the plan file's column and its yes value, parsed
            str(row.get("会同纪委") or "").strip() in ("是", "1", "true", "TRUE", "Y", "y"))
        rows.append(PlanEntry(  # i18n-exempt: column headers of the plan file
            plan=plan, institution_id=institution_id, month=int(month), kind=kind,
            team=str(row.get("检查组") or "")[:200], joint_with_discipline=joint,
            notes=str(row.get("备注") or "")[:300]))
    if report.problems:
        return report
    with transaction.atomic():
        PlanEntry.objects.bulk_create(rows)
    report.created = len(rows)
    return report
