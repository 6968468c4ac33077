"""Every write of the programme's year: the ledger, trainings, self-chosen actions and showcases,
notices with their read receipts and returns, evidence for the self sheet, the archive.

Refusals are core.errors: a record outside the user's scope is NotFound (404), a role that may not
act is NotAllowed (403), bad input DomainError (400), a state that forbids the action StateConflict.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import outbox
from core.errors import DomainError, NotAllowed, NotFound, StateConflict
from institutions import access
from institutions.models import District, Employee, Institution, InstitutionCategory, Membership, Role

from . import rules, selectors
from .files import FileRejected, sha256, sniff
from .images import ImageRejected, strip_photo
from .models import (
    Activity,
    ActivityFile,
    ActivityKind,
    ArchiveJob,
    ArchiveStatus,
    Attendance,
    Audience,
    Campaign,
    CampaignKind,
    EvidenceLink,
    EvidenceSource,
    FileKind,
    KindCategory,
    Notice,
    NoticeAttachment,
    NoticeRecipient,
    ReturnKind,
    ReturnStatus,
    SelfChosenAction,
    TrainingHours,
    TrainingSession,
)

MAX_FILES_PER_UPLOAD = 10

DEFAULT_CATALOGUE = (  # i18n-exempt: the default kinds are written into each district's catalogue as data
    (KindCategory.CULTURE, "清廉文化活动"),
    (KindCategory.CULTURE, "清风墙建设"),
    (KindCategory.TRAINING, "廉洁培训"),
    (KindCategory.WARNING_EDUCATION, "警示教育"),
    (KindCategory.WARNING_EDUCATION, "警示教育展"),
    (KindCategory.COMMITMENT, "廉洁承诺签订"),
    (KindCategory.FAMILY_VISIT, "廉洁家访"),
    (KindCategory.SELF_CHOSEN, "自选动作"),
    (KindCategory.OTHER, "其他"),
)


def _real(user):
    return user if getattr(user, "pk", None) and getattr(user, "is_authenticated", False) else None


# --- who may write ------------------------------------------------------------------------------

def _institution_for_writer(user, institution: Institution | int) -> Institution:
    """The institution a filer or head writes for: 404 when the user cannot see it at all, 403 when
    they see it (the finance center) but do not keep its records."""
    pk = institution if isinstance(institution, int) else institution.pk
    inst = selectors.visible_institutions(user).filter(pk=pk).first()
    if inst is None:
        raise NotFound(_("未找到该机构，或您无权访问"))
    if pk not in selectors.writer_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以登记"))
    return inst


def _finance_of(user, district_id: int, what: str) -> None:
    if not access.is_finance_center(user, district_id):
        raise NotAllowed(_("只有区金融工作中心可以{what}").format(what=what))


# The input (form or API field) each label names, for the refusal's `field`. The labels are msgids,
# translated when the refusal is written.
_FIELDS = {gettext_noop("活动名称"): "title", gettext_noop("培训主题"): "title", gettext_noop("名称"): "title",
           gettext_noop("标题"): "title", gettext_noop("地点"): "place", gettext_noop("组织者"): "organiser",
           gettext_noop("活动内容"): "description", gettext_noop("内容"): "description",
           gettext_noop("说明"): "description", gettext_noop("授课人"): "trainer", gettext_noop("目标"): "goals",
           gettext_noop("举措"): "measures", gettext_noop("成效"): "results", gettext_noop("样板评语"): "note",
           gettext_noop("正文"): "body", gettext_noop("报送说明"): "return_instructions",
           gettext_noop("报送内容"): "text", gettext_noop("退回原因"): "reason"}


def _check_text(value: str, label: str, max_length: int, required: bool = True) -> str:
    """`label`: the input's name as a msgid (gettext_noop), translated here."""
    value = (value or "").strip()
    field_name = _FIELDS.get(label, "")
    if required and not value:
        raise DomainError(_("请填写{label}").format(label=_(label)), field=field_name)
    if len(value) > max_length:
        raise DomainError(_("{label}不能超过 {max_length} 个字").format(label=_(label), max_length=max_length),
                          field=field_name)
    return value


def _check_year(day: dt.date, label: str = gettext_noop("日期")) -> int:
    if not isinstance(day, dt.date) or not (2000 <= day.year <= 2100):
        raise DomainError(_("{label}须在 2000 至 2100 年之间").format(label=_(label)))
    return day.year


def clauses_for(district_id: int, year: int):
    """The clauses of the norms the district uses that year (its own, else the template)."""
    from scoring import services as scoring_services
    from scoring.models import NormClause

    try:
        scheme = scoring_services.scheme_for(district_id, year)
    except NotFound:
        return NormClause.objects.none()
    return NormClause.objects.filter(norms_id=scheme.norms_id).select_related("item").order_by(
        "item__number", "position", "pk")


def _clauses(district_id: int, year: int, clause_ids: Iterable[int]) -> list:
    ids = {int(c) for c in clause_ids or ()}
    if not ids:
        return []
    found = list(clauses_for(district_id, year).filter(pk__in=ids))
    if len(found) != len(ids):
        raise DomainError(_("所选条款不在 {year} 年度的创建规范中").format(year=year), field="clauses")
    return found


# --- the catalogue ------------------------------------------------------------------------------

def ensure_catalogue(district: District | int) -> None:
    """The district's catalogue of activity kinds, created with the defaults on first use."""
    district_id = district if isinstance(district, int) else district.pk
    if ActivityKind.objects.filter(district_id=district_id).exists():
        return
    ActivityKind.objects.bulk_create([ActivityKind(district_id=district_id, category=c, name=n, position=i)
                                      for i, (c, n) in enumerate(DEFAULT_CATALOGUE)], ignore_conflicts=True)


def add_kind(user, district: District, category: str, name: str) -> ActivityKind:
    _finance_of(user, district.pk, _("维护活动类型"))
    if category not in KindCategory.values:
        raise DomainError(_("活动类别无效"), field="category")
    name = _check_text(name, gettext_noop("名称"), 60)
    try:
        with transaction.atomic():
            return ActivityKind.objects.create(district=district, category=category, name=name,
                                               position=ActivityKind.objects.filter(district=district).count())
    except IntegrityError:
        raise StateConflict(_("活动类型“{name}”已存在").format(name=name)) from None


# --- the ledger ---------------------------------------------------------------------------------

@dataclass
class ActivityInput:
    kind_id: int
    title: str
    held_on: dt.date
    place: str = ""
    organiser: str = ""
    participant_ids: list[int] = field(default_factory=list)
    participant_count: int = 0
    description: str = ""
    clause_ids: list[int] = field(default_factory=list)


def _activity_values(inst: Institution, data: ActivityInput) -> tuple[dict, list, list]:
    year = _check_year(data.held_on, gettext_noop("活动日期"))
    kind = ActivityKind.objects.filter(pk=data.kind_id, district_id=inst.district_id, is_active=True).first()
    if kind is None:
        raise DomainError(_("请选择本区目录中的活动类型"), field="kind")
    ids = {int(p) for p in data.participant_ids or ()}
    participants = list(Employee.objects.filter(pk__in=ids, institution=inst))
    if len(participants) != len(ids):
        raise DomainError(_("参加人员须为本机构员工名册中的人员"), field="participants")
    count = int(data.participant_count or 0)
    if count < 0 or count > 100000:
        raise DomainError(_("参加人数须在 0 至 100000 之间"), field="participant_count")
    values = {
        "kind": kind, "title": _check_text(data.title, gettext_noop("活动名称"), 200), "held_on": data.held_on,
        "year": year, "place": _check_text(data.place, gettext_noop("地点"), 200, required=False),
        "organiser": _check_text(data.organiser, gettext_noop("组织者"), 100, required=False),
        "participant_count": max(count, len(participants)),
        "description": _check_text(data.description, gettext_noop("活动内容"), 5000, required=False),
    }
    return values, participants, _clauses(inst.district_id, year, data.clause_ids)


def record_activity(user, institution: Institution | int, data: ActivityInput) -> Activity:
    inst = _institution_for_writer(user, institution)
    values, participants, clauses = _activity_values(inst, data)
    with transaction.atomic():
        activity = Activity.objects.create(institution=inst, created_by=_real(user), **values)
        activity.participants.set(participants)
        activity.clauses.set(clauses)
    return activity


def update_activity(user, activity: Activity, data: ActivityInput) -> Activity:
    inst = _institution_for_writer(user, activity.institution_id)
    values, participants, clauses = _activity_values(inst, data)
    with transaction.atomic():
        for key, value in values.items():
            setattr(activity, key, value)
        activity.save()
        activity.participants.set(participants)
        activity.clauses.set(clauses)
    return activity


def delete_activity(user, activity: Activity) -> None:
    _institution_for_writer(user, activity.institution_id)
    with transaction.atomic():
        # Under the record's lock: attaching it as evidence locks it too, so one waits for the other.
        if not Activity.objects.select_for_update().filter(pk=activity.pk).exists():
            raise NotFound(_("未找到该活动"))
        if EvidenceLink.objects.filter(source=EvidenceSource.ACTIVITY, object_id=activity.pk).exists():
            raise StateConflict(_("该活动已作为自评佐证引用，不能删除"))
        names = [(f.file.storage, f.file.name) for f in activity.files.all() if f.file]
        activity.delete()
        # The files go once the deletion is committed (a rolled-back deletion keeps them).
        transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])


def add_activity_files(user, activity: Activity, uploads, kind: str) -> list[ActivityFile]:
    """Photos (re-encoded without metadata) or materials (checked by content); all or nothing."""
    _institution_for_writer(user, activity.institution_id)
    if kind not in FileKind.values:
        raise DomainError(_("附件类型无效"), field="kind")
    uploads = list(uploads or [])
    if not uploads:
        raise DomainError(_("请选择文件"), field="files")
    if len(uploads) > MAX_FILES_PER_UPLOAD:
        raise DomainError(_("一次最多上传 {n} 个文件").format(n=MAX_FILES_PER_UPLOAD), field="files")
    prepared = []
    for upload in uploads:
        name = (getattr(upload, "name", "") or _("文件"))[:200]
        if upload.size > 10 * 1024 * 1024:
            raise DomainError(_("{name} 超过 10 MB 上限").format(name=name), field="files")
        data = upload.read()
        try:
            if kind == FileKind.PHOTO:
                photo = strip_photo(data, name)
                stem = PurePosixPath(name).stem[:80] or "photo"
                prepared.append((f"{stem}.{photo.extension}", photo.working, photo.content_type,
                                 photo.original_sha256))
            else:
                prepared.append((name, data, sniff(data, name), sha256(data)))
        except (ImageRejected, FileRejected) as exc:
            raise DomainError(str(exc), field="files") from None
    out = []
    with transaction.atomic():
        for name, content, content_type, digest in prepared:
            row = ActivityFile(activity=activity, kind=kind, original_name=name, content_type=content_type,
                               size=len(content), original_sha256=digest, uploaded_by=_real(user))
            row.file.save(f"{digest[:16]}{PurePosixPath(name).suffix[:10]}", ContentFile(content), save=False)
            row.save()
            out.append(row)
    return out


# --- trainings ----------------------------------------------------------------------------------

@dataclass
class TrainingInput:
    title: str
    held_on: dt.date
    hours: Decimal
    trainer: str = ""
    place: str = ""
    is_warning_education: bool = False
    description: str = ""
    clause_ids: list[int] = field(default_factory=list)


def record_training(user, institution: Institution | int, data: TrainingInput) -> TrainingSession:
    inst = _institution_for_writer(user, institution)
    year = _check_year(data.held_on, gettext_noop("培训日期"))
    try:
        hours = rules.parse_hours(data.hours)
    except ValueError as exc:
        raise DomainError(str(exc), field="hours") from None
    clauses = _clauses(inst.district_id, year, data.clause_ids)
    with transaction.atomic():
        session = TrainingSession.objects.create(
            institution=inst, title=_check_text(data.title, gettext_noop("培训主题"), 200), held_on=data.held_on,
            year=year, hours=hours, trainer=_check_text(data.trainer, gettext_noop("授课人"), 100, required=False),
            place=_check_text(data.place, gettext_noop("地点"), 200, required=False),
            is_warning_education=bool(data.is_warning_education),
            description=_check_text(data.description, gettext_noop("内容"), 5000, required=False),
            created_by=_real(user))
        session.clauses.set(clauses)
    return session


def recompute_hours(employee_ids: Iterable[int], year: int) -> None:
    """The stored hours of these employees for the year, from their attendance (one upsert each).

    Inside the writer's transaction, the employees' rows are locked first (in id order): a second
    writer of attendance for the same people waits, then sums what the first committed too (without
    the lock each summed only what it could see, and the last to write lost the other's session)."""
    ids = sorted({int(e) for e in employee_ids})
    if not ids:
        return
    institutions = dict(Employee.objects.select_for_update().filter(pk__in=ids).order_by("pk")
                        .values_list("pk", "institution_id"))
    sums = {r["employee_id"]: r for r in Attendance.objects.filter(employee_id__in=ids, session__year=year)
            .values("employee_id").annotate(hours=Sum("hours"), n=Count("session_id", distinct=True))}
    for pk in ids:
        row = sums.get(pk)
        if row is None:
            TrainingHours.objects.filter(employee_id=pk, year=year).delete()
            continue
        TrainingHours.objects.update_or_create(employee_id=pk, year=year, defaults={
            "institution_id": institutions[pk], "hours": row["hours"], "sessions": row["n"]})


def set_attendance(user, session: TrainingSession, employee_ids: Iterable[int],
                   hours: dict[int, Decimal] | None = None) -> int:
    """The session's attendance becomes exactly these employees (ticked on the page); returns how many."""
    _institution_for_writer(user, session.institution_id)
    ids = {int(e) for e in employee_ids}
    hours = hours or {}
    known = set(Employee.objects.filter(pk__in=ids, institution_id=session.institution_id).values_list("pk", flat=True))
    if known != ids:
        raise DomainError(_("签到人员须为本机构员工名册中的人员"), field="employees")
    for value in hours.values():
        if value > session.hours or value <= 0:
            raise DomainError(_("个人学时须大于0且不超过本次培训的 {hours} 学时").format(hours=session.hours),
                              field="hours")
    with transaction.atomic():
        _lock_training(session)
        before = set(session.attendance.values_list("employee_id", flat=True))
        session.attendance.exclude(employee_id__in=ids).delete()
        for pk in ids:
            Attendance.objects.update_or_create(session=session, employee_id=pk,
                                                defaults={"hours": hours.get(pk, session.hours)})
        recompute_hours(before | ids, session.year)
    return len(ids)


ATTENDANCE_COLUMNS = ("工号", "姓名")  # i18n-exempt: the attendance file's column headers, parsed


def import_attendance(user, session: TrainingSession, data: bytes, filename: str):
    """Attendance from an xlsx/csv (columns 工号, 姓名, optional 学时), added to what is there; all or
    nothing with the bad rows by line number (core.tabular.ImportReport)."""
    from core.tabular import ImportReport, RowProblem, TabularError, load_dataset

    _institution_for_writer(user, session.institution_id)
    try:
        dataset = load_dataset(data, filename, ATTENDANCE_COLUMNS)
    except TabularError as exc:
        raise DomainError(str(exc), field="file") from None
    report = ImportReport()
    employees = {e.employee_no: e for e in Employee.objects.filter(institution_id=session.institution_id)}
    has_hours = "学时" in dataset.headers  # i18n-exempt: column header of the attendance file
    rows: dict[int, Decimal] = {}
    for number, row in enumerate(dataset.dict, start=2):
        no, name = str(row.get("工号") or "").strip(), str(row.get("姓名") or "").strip()  # i18n-exempt: columns
        employee = employees.get(no)
        if employee is None:
            report.problems.append(RowProblem(number, _("工号 {no} 不在本机构员工名册中").format(no=repr(no[:32]))))
            continue
        if name and name != employee.name:
            report.problems.append(RowProblem(number, _("工号 {no} 的姓名应为 {expected}，文件中为 {name}").format(
                no=no, expected=employee.name, name=name[:50])))
            continue
        value = session.hours
        raw = str(row.get("学时") or "").strip() if has_hours else ""  # i18n-exempt: column header
        if raw:
            try:
                value = rules.parse_hours(raw)
            except ValueError as exc:
                report.problems.append(RowProblem(number, str(exc)))
                continue
            if value > session.hours:
                report.problems.append(RowProblem(number, _("学时不能超过本次培训的 {hours}").format(
                    hours=session.hours)))
                continue
        if employee.pk in rows:
            report.problems.append(RowProblem(number, _("工号 {no} 重复").format(no=no)))
            continue
        rows[employee.pk] = value
    if not rows and not report.problems:
        report.problems.append(RowProblem(1, _("文件中没有签到记录")))
    if not report.ok:
        return report
    with transaction.atomic():
        _lock_training(session)
        existing = set(session.attendance.values_list("employee_id", flat=True))
        for pk, value in rows.items():
            _row, created = Attendance.objects.update_or_create(session=session, employee_id=pk,
                                                                defaults={"hours": value})
            if created:
                report.created += 1
            else:
                report.updated += 1
        recompute_hours(existing | set(rows), session.year)
    return report


def _lock_training(session: TrainingSession) -> None:
    """The session's row locked for the writer's transaction (404 when it is gone), before its attendance
    and its people's hours: every writer of a session takes the locks in that order, so recording
    attendance and deleting the session wait for each other instead of deadlocking, and attendance is
    never written for a session deleted meanwhile (as delete_activity)."""
    if not TrainingSession.objects.select_for_update().filter(pk=session.pk).exists():
        raise NotFound(_("未找到该培训"))


def delete_training(user, session: TrainingSession) -> None:
    _institution_for_writer(user, session.institution_id)
    with transaction.atomic():
        _lock_training(session)
        if EvidenceLink.objects.filter(source=EvidenceSource.TRAINING, object_id=session.pk).exists():
            raise StateConflict(_("该培训已作为自评佐证引用，不能删除"))
        ids = set(session.attendance.values_list("employee_id", flat=True))
        year = session.year
        session.delete()
        recompute_hours(ids, year)


# --- self-chosen actions and showcases ----------------------------------------------------------

@dataclass
class ActionInput:
    year: int
    title: str
    goals: str
    measures: str = ""
    results: str = ""
    status: str = "planned"
    clause_ids: list[int] = field(default_factory=list)


def save_action(user, institution: Institution | int, data: ActionInput,
                action: SelfChosenAction | None = None) -> SelfChosenAction:
    from .models import ActionStatus

    inst = _institution_for_writer(user, institution if action is None else action.institution_id)
    if not isinstance(data.year, int) or not 2000 <= data.year <= 2100:
        raise DomainError(_("年度须在 2000 至 2100 之间"), field="year")
    if data.status not in ActionStatus.values:
        raise DomainError(_("状态无效"), field="status")
    if action is not None and action.is_showcase and action.year != data.year:
        raise StateConflict(_("已评为样板的自选动作不能更改年度"))
    clauses = _clauses(inst.district_id, data.year, data.clause_ids)
    values = {"year": data.year, "title": _check_text(data.title, gettext_noop("名称"), 200),
              "goals": _check_text(data.goals, gettext_noop("目标"), 5000),
              "measures": _check_text(data.measures, gettext_noop("举措"), 5000, required=False),
              "results": _check_text(data.results, gettext_noop("成效"), 5000, required=False),
              "status": data.status}
    with transaction.atomic():
        if action is None:
            action = SelfChosenAction.objects.create(institution=inst, created_by=_real(user), **values)
        else:
            # Read again under its lock and write only what the form holds: a showcase awarded since the
            # page was opened is kept (saving the whole object read before undid the award).
            action = SelfChosenAction.objects.select_for_update().get(pk=action.pk)
            if action.is_showcase and action.year != data.year:
                raise StateConflict(_("已评为样板的自选动作不能更改年度"))
            for key, value in values.items():
                setattr(action, key, value)
            action.save(update_fields=[*values, "updated_at"])
        action.clauses.set(clauses)
    return action


def mark_showcase(user, action: SelfChosenAction, on: bool, note: str = "") -> SelfChosenAction:
    """The finance center marks (or unmarks) a self-chosen action as a showcase (样板)."""
    if not selectors.actions(user).filter(pk=action.pk).exists():
        raise NotFound(_("未找到该自选动作"))
    _finance_of(user, action.institution.district_id, _("评定样板"))
    note = _check_text(note, gettext_noop("样板评语"), 2000, required=False)
    with transaction.atomic():
        locked = SelfChosenAction.objects.select_for_update().get(pk=action.pk)
        if on and locked.is_showcase:
            raise StateConflict(_("该自选动作已是样板"))
        if not on and not locked.is_showcase:
            raise StateConflict(_("该自选动作不是样板"))
        if not on and EvidenceLink.objects.filter(source=EvidenceSource.SHOWCASE, object_id=locked.pk).exists():
            raise StateConflict(_("该样板已作为自评佐证引用，不能撤销"))
        locked.is_showcase = on
        locked.showcase_note = note if on else ""
        locked.showcase_by = _real(user) if on else None
        locked.showcase_at = timezone.now() if on else None
        locked.save()
    return locked


# --- campaigns and notices ----------------------------------------------------------------------

@dataclass
class CampaignInput:
    title: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date
    description: str = ""
    district_code: str = ""


def create_campaign(user, data: CampaignInput) -> Campaign:
    district = access.resolve_district(user, data.district_code, (Role.FINANCE_CENTER,))
    _finance_of(user, district.pk, _("发起专项行动"))
    if data.kind not in CampaignKind.values:
        raise DomainError(_("专项类型无效"), field="kind")
    _check_year(data.starts_on, gettext_noop("开始日期"))
    _check_year(data.ends_on, gettext_noop("结束日期"))
    if data.ends_on < data.starts_on:
        raise DomainError(_("结束日期不能早于开始日期"), field="ends_on")
    return Campaign.objects.create(district=district, kind=data.kind,
                                   title=_check_text(data.title, gettext_noop("名称"), 200),
                                   description=_check_text(data.description, gettext_noop("说明"), 5000,
                                                           required=False),
                                   starts_on=data.starts_on, ends_on=data.ends_on, created_by=_real(user))


@dataclass
class NoticeInput:
    title: str
    body: str
    audience: str = Audience.DISTRICT
    category: str = ""
    institution_codes: list[str] = field(default_factory=list)
    return_kind: str = ""
    return_instructions: str = ""
    return_within: int | None = None  # working days from the publishing day
    campaign_id: int | None = None
    clause_id: int | None = None
    district_code: str = ""


def _audience(district: District, data: NoticeInput) -> list[Institution]:
    qs = Institution.objects.filter(district=district, is_active=True).order_by("code")
    if data.audience == Audience.DISTRICT:
        return list(qs)
    if data.audience == Audience.CATEGORY:
        if data.category not in InstitutionCategory.values:
            raise DomainError(_("请选择机构类别"), field="category")
        return list(qs.filter(category=data.category))
    if data.audience == Audience.INSTITUTIONS:
        codes = {c.strip() for c in data.institution_codes or () if c and c.strip()}
        if not codes:
            raise DomainError(_("请选择接收机构"), field="institutions")
        found = list(qs.filter(code__in=codes))
        if len(found) != len(codes):
            raise DomainError(_("所选机构不在本区或已停用"), field="institutions")
        return found
    raise DomainError(_("发送范围无效"), field="audience")


MAX_ATTACHMENTS = 10
TRACKING_SOURCE = "activities"


def publish_notice(user, data: NoticeInput, attachments=(), today: dt.date | None = None) -> Notice:
    """The finance center publishes a notice to its district's institutions (all, a category, or a
    list); each gets a read receipt and, when the notice asks a return, a tracked item (督办事项) due
    `return_within` working days after publishing (tracking: replies, accept/return, reminders)."""
    from tracking import services as tracking

    today = today or timezone.localdate()
    district = access.resolve_district(user, data.district_code, (Role.FINANCE_CENTER,))
    _finance_of(user, district.pk, _("发布通知"))
    title = _check_text(data.title, gettext_noop("标题"), 200)
    body = _check_text(data.body, gettext_noop("正文"), 20000)
    if data.audience not in Audience.values:
        raise DomainError(_("发送范围无效"), field="audience")
    if data.return_kind not in ReturnKind.values:
        raise DomainError(_("报送要求无效"), field="return_kind")
    due = None
    if data.return_kind:
        if not data.return_within:
            raise DomainError(_("要求报送时须填写报送期限（工作日）"), field="return_within")
        if not 1 <= int(data.return_within) <= 250:
            raise DomainError(_("报送期限须为 1 至 250 个工作日"), field="return_within")
        due = tracking.compute_due(today, int(data.return_within)).date
    campaign = None
    if data.campaign_id:
        campaign = Campaign.objects.filter(pk=data.campaign_id, district=district).first()
        if campaign is None:
            raise DomainError(_("专项行动不存在或不属于本区"), field="campaign")
    clause = None
    if data.clause_id:
        clause = clauses_for(district.pk, today.year).filter(pk=data.clause_id).first()
        if clause is None:
            raise DomainError(_("所选条款不在 {year} 年度的创建规范中").format(year=today.year), field="clause")
    targets = _audience(district, data)
    if not targets:
        raise DomainError(_("发送范围内没有机构"), field="audience")
    files = list(attachments or [])
    if len(files) > MAX_ATTACHMENTS:
        raise DomainError(_("附件最多 {n} 个").format(n=MAX_ATTACHMENTS), field="attachments")
    prepared = []
    for upload in files:
        name = (getattr(upload, "name", "") or _("附件"))[:200]
        if upload.size > 10 * 1024 * 1024:
            raise DomainError(_("{name} 超过 10 MB 上限").format(name=name), field="attachments")
        content = upload.read()
        try:
            prepared.append((name, content, sniff(content, name)))
        except FileRejected as exc:
            raise DomainError(str(exc), field="attachments") from None
    with transaction.atomic():
        notice = Notice.objects.create(
            district=district, campaign=campaign, title=title, body=body, audience=data.audience,
            category=data.category if data.audience == Audience.CATEGORY else "", return_kind=data.return_kind,
            return_instructions=_check_text(data.return_instructions, gettext_noop("报送说明"), 5000,
                                            required=False),
            return_within=int(data.return_within) if data.return_kind else None, return_due_on=due,
            clause=clause, publisher=_real(user))
        for name, content, content_type in prepared:
            row = NoticeAttachment(notice=notice, original_name=name, content_type=content_type, size=len(content))
            row.file.save(f"{sha256(content)[:16]}{PurePosixPath(name).suffix[:10]}", ContentFile(content),
                          save=False)
            row.save()
        status = ReturnStatus.PENDING if data.return_kind else ""
        NoticeRecipient.objects.bulk_create([
            NoticeRecipient(notice=notice, institution=inst, return_status=status, due_on=due) for inst in targets])
        if data.return_kind:
            for recipient in notice.recipients.select_related("institution"):
                tracking.create_item(institution=recipient.institution, kind="campaign_return",
                                     title=_("报送：{title}").format(title=notice.title), start=today,
                                     working_days=int(data.return_within), source_app=TRACKING_SOURCE,
                                     source_id=recipient.pk, detail=notice.return_instructions, actor=user)
        if due:
            mail_body = _("{district}金融工作中心发布了通知《{title}》，请登录清廉金融管理平台阅读，"
                          "并于 {due} 前报送。")
        else:
            mail_body = _("{district}金融工作中心发布了通知《{title}》，请登录清廉金融管理平台阅读。")
        _mail_recipients(notice, [i.pk for i in targets], "notice", _("【通知】{title}").format(title=notice.title),
                         mail_body.format(district=district.name, title=notice.title,
                                          due=f"{due:%Y-%m-%d}" if due else ""))
    return notice


def on_tracked_change(item, action: str) -> None:
    """tracking's listener (registered in apps.py): mirror a return's tracked item on its receipt,
    inside the item's transaction, whoever acted (this app's pages or tracking's)."""
    recipient = NoticeRecipient.objects.select_for_update().filter(pk=item.source_id).first()
    if recipient is None:
        return
    fields = ["due_on"]
    recipient.due_on = item.due_on
    if action == "created":
        recipient.tracked_item = item
        fields.append("tracked_item")
    elif action == "reported":
        recipient.return_status = ReturnStatus.SUBMITTED
        recipient.returned_at = item.reported_at or timezone.now()
        recipient.read_at = recipient.read_at or recipient.returned_at
        fields += ["return_status", "returned_at", "read_at"]
    elif action == "accepted":
        recipient.return_status = ReturnStatus.ACCEPTED
        recipient.decided_at = item.closed_at or timezone.now()
        recipient.decision_reason = ""
        fields += ["return_status", "decided_at", "decision_reason"]
    elif action == "returned":
        recipient.return_status = ReturnStatus.RETURNED
        recipient.decided_at = timezone.now()
        last = item.events.filter(action="returned").order_by("-at", "-id").first()
        recipient.decision_reason = last.note if last else ""
        fields += ["return_status", "decided_at", "decision_reason"]
    recipient.save(update_fields=fields)


def _mail_recipients(notice: Notice, institution_ids: list[int], what: str, subject: str, body: str) -> int:
    """One mail per institution to its filers and heads with an address (core.outbox, idempotent keys)."""
    by_inst: dict[int, list[str]] = {}
    for inst_id, email in (Membership.objects.filter(
            institution_id__in=institution_ids, role__in=[Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD])
            .exclude(user__email="").values_list("institution_id", "user__email")):
        by_inst.setdefault(inst_id, []).append(email)
    mails = [outbox.Mail(key=f"activities:{what}:{notice.pk}:{pk}", recipients=sorted(set(emails)),
                         subject=subject, body=body, kind=f"activities.{what}")
             for pk, emails in by_inst.items()]
    return outbox.enqueue_many(mails) if mails else 0


def mark_read(user, notice: Notice) -> int:
    """The user's institutions' receipts of this notice are read (first reader recorded); returns how many."""
    own = selectors.writer_institution_ids(user)
    if not own:
        return 0
    return NoticeRecipient.objects.filter(notice=notice, institution_id__in=own, read_at__isnull=True).update(
        read_at=timezone.now(), read_by=_real(user))


def _visible_recipient(user, recipient: NoticeRecipient) -> NoticeRecipient:
    if not selectors.recipients(user).filter(pk=recipient.pk).exists():
        raise NotFound(_("未找到该报送"))
    if not recipient.notice.return_kind or recipient.tracked_item_id is None:
        raise StateConflict(_("该通知不要求报送"))
    return recipient


def submit_return(user, recipient: NoticeRecipient, text: str = "", upload=None) -> NoticeRecipient:
    """The institution makes (or makes again, after a return) its return (报送): the tracked item's
    report; the text and the file are kept on the receipt."""
    from tracking import services as tracking

    _visible_recipient(user, recipient)
    if recipient.institution_id not in selectors.writer_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以报送"))
    notice = recipient.notice
    text = _check_text(text, gettext_noop("报送内容"), 20000, required=notice.return_kind == ReturnKind.FORM)
    prepared = None
    if upload is not None:
        name = (getattr(upload, "name", "") or _("报送文件"))[:200]
        if upload.size > 10 * 1024 * 1024:
            raise DomainError(_("{name} 超过 10 MB 上限").format(name=name), field="file")
        content = upload.read()
        try:
            sniff(content, name)
        except FileRejected as exc:
            raise DomainError(str(exc), field="file") from None
        prepared = (name, content)
    elif notice.return_kind == ReturnKind.FILE:
        raise DomainError(_("请上传报送文件"), field="file")
    with transaction.atomic():
        locked = NoticeRecipient.objects.select_for_update().get(pk=recipient.pk)
        if locked.return_status not in rules.SUBMITTABLE:
            raise StateConflict(_("报送状态为“{status}”，不能再次报送").format(
                status=locked.get_return_status_display()))
        measures = text or _("已上传报送文件：{name}").format(name=prepared[0])
        if prepared:
            name, content = prepared
            old = locked.return_file.name if locked.return_file else ""
            locked.return_file.save(f"{sha256(content)[:16]}{PurePosixPath(name).suffix[:10]}",
                                    ContentFile(content), save=False)
            locked.return_file_name = name
            if old:
                transaction.on_commit(lambda: locked.return_file.storage.delete(old))
        locked.return_text = text
        locked.save(update_fields=["return_text", "return_file", "return_file_name"])
        tracking.report(locked.tracked_item, user, measures=measures)
    locked.refresh_from_db()
    return locked


def decide_return(user, recipient: NoticeRecipient, accept: bool, reason: str = "",
                  working_days: int | None = None) -> NoticeRecipient:
    """The finance center accepts a return (销号), or sends it back with a reason (and a new period
    in working days from today): the tracked item's accept / return."""
    from tracking import services as tracking

    _visible_recipient(user, recipient)
    _finance_of(user, recipient.notice.district_id, _("审核报送"))
    with transaction.atomic():
        locked = NoticeRecipient.objects.select_for_update(of=("self",)).select_related("tracked_item").get(
            pk=recipient.pk)
        if locked.return_status not in rules.DECIDABLE:
            raise StateConflict(_("报送状态为“{status}”，不能审核").format(status=locked.get_return_status_display()))
        if accept:
            tracking.accept(locked.tracked_item, user)
        else:
            tracking.return_item(locked.tracked_item, user, reason=reason, working_days=working_days)
    locked.refresh_from_db()
    return locked


# --- evidence for the self sheet ----------------------------------------------------------------

def _evidence_records(source: str, institution_id: int, year: int):
    """The records of the institution's year that may be attached as evidence from `source`."""
    if source == EvidenceSource.ACTIVITY:
        return Activity.objects.filter(institution_id=institution_id, year=year)
    if source == EvidenceSource.TRAINING:
        return TrainingSession.objects.filter(institution_id=institution_id, year=year)
    if source == EvidenceSource.SHOWCASE:
        return SelfChosenAction.objects.filter(institution_id=institution_id, year=year, is_showcase=True)
    return NoticeRecipient.objects.filter(institution_id=institution_id, return_status=ReturnStatus.ACCEPTED,
                                          notice__published_at__year=year)


def _evidence_record(source: str, object_id: int, institution_id: int, year: int):
    """(title, rows of the summary, clause ids) of a record of the institution's year; NotFound otherwise."""
    if source == EvidenceSource.ACTIVITY:
        a = Activity.objects.filter(pk=object_id, institution_id=institution_id, year=year).select_related(
            "kind").first()
        if a:
            rows = [(_("类型"), a.kind.name), (_("名称"), a.title), (_("日期"), a.held_on), (_("地点"), a.place),
                    (_("组织者"), a.organiser), (_("参加人数"), a.participant_count), (_("内容"), a.description),
                    (_("照片与材料"), "、".join(a.files.values_list("original_name", flat=True)))]
            return a.title, rows, set(a.clauses.values_list("pk", flat=True))
    elif source == EvidenceSource.TRAINING:
        t = TrainingSession.objects.filter(pk=object_id, institution_id=institution_id, year=year).first()
        if t:
            rows = [(_("培训主题"), t.title), (_("日期"), t.held_on), (_("学时"), t.hours), (_("授课人"), t.trainer),
                    (_("地点"), t.place), (_("签到人数"), t.attendance.count()), (_("内容"), t.description)]
            return t.title, rows, set(t.clauses.values_list("pk", flat=True))
    elif source == EvidenceSource.SHOWCASE:
        s = SelfChosenAction.objects.filter(pk=object_id, institution_id=institution_id, year=year,
                                            is_showcase=True).first()
        if s:
            rows = [(_("自选动作"), s.title), (_("目标"), s.goals), (_("举措"), s.measures), (_("成效"), s.results),
                    (_("样板评定时间"), timezone.localtime(s.showcase_at).date()), (_("样板评语"), s.showcase_note)]
            return s.title, rows, set(s.clauses.values_list("pk", flat=True))
    elif source == EvidenceSource.RETURN:
        r = NoticeRecipient.objects.filter(pk=object_id, institution_id=institution_id,
                                           return_status=ReturnStatus.ACCEPTED,
                                           notice__published_at__year=year).select_related("notice").first()
        if r:
            rows = [(_("通知"), r.notice.title), (_("报送截止日"), r.due_on),
                    (_("报送时间"), timezone.localtime(r.returned_at).date() if r.returned_at else None),
                    (_("报送内容"), r.return_text), (_("报送文件"), r.return_file_name), (_("审核结果"), _("已通过"))]
            return r.notice.title, rows, {r.notice.clause_id} if r.notice.clause_id else set()
    raise NotFound(_("未找到该记录，或它不属于本机构该年度"))


def summary_xlsx(title: str, rows) -> bytes:
    from openpyxl import Workbook

    from core.exports import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = _("记录")
    append_row(ws, [_("项目"), title])
    for label, value in rows:
        append_row(ws, [label, value])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 80
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def attach_evidence(user, assessment, indicator_code: str, source: str, object_id: int):
    """Attach a record of the institution's year (activity, training, showcase, accepted return) to
    the self sheet's entry of `indicator_code` as evidence: a summary .xlsx through
    scoring.services.add_evidence (which checks the sheet may be filled by the user). Once per record
    and indicator (409 after)."""
    from scoring import services as scoring_services
    from scoring.models import Indicator, Source

    if not scoring_services.visible_assessments(user).filter(pk=assessment.pk).exists():
        raise NotFound(_("未找到该测评表"))
    if source not in EvidenceSource.values:
        raise DomainError(_("佐证来源无效"), field="source")
    indicator = Indicator.objects.filter(scheme_id=assessment.scheme_id, code=indicator_code).first()
    if indicator is None:
        raise NotFound(_("{year} 年度方案中没有指标 {code}").format(year=assessment.year, code=indicator_code))
    title, rows, clause_ids = _evidence_record(source, int(object_id), assessment.institution_id, assessment.year)
    if indicator.clause_id and indicator.clause_id not in clause_ids:
        raise DomainError(_("该记录未对应此指标的条款，不能作为它的佐证"), field="object_id")
    if EvidenceLink.objects.filter(assessment=assessment, indicator_code=indicator_code, source=source,
                                   object_id=object_id).exists():
        raise StateConflict(_("该记录已作为此指标的佐证"))
    label = EvidenceSource(source).label
    safe_title = "".join(c for c in title if c not in '\\/:*?"<>|\r\n\t')[:60] or label
    upload = SimpleUploadedFile(f"{label}-{safe_title}.xlsx", summary_xlsx(f"{label}：{title}", rows),
                                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    try:
        with transaction.atomic():
            # The record locked and read again: deleting it, or taking its showcase away, waits for this
            # attachment (and then sees the link), or this sees that it is gone.
            # `.first()`, not `.exists()`: the latter drops `of`, and would lock a return's shared notice.
            records = _evidence_records(source, assessment.institution_id, assessment.year)
            if records.select_for_update(of=("self",)).filter(pk=int(object_id)).first() is None:
                raise NotFound(_("未找到该记录，或它不属于本机构该年度"))
            evidence = scoring_services.add_evidence(user, assessment, Source.SELF, indicator_code, upload)
            link = EvidenceLink.objects.create(evidence=evidence, assessment=assessment,
                                               indicator_code=indicator_code, source=source,
                                               object_id=object_id, created_by=_real(user))
    except IntegrityError:
        raise StateConflict(_("该记录已作为此指标的佐证")) from None
    return link


# --- the archive --------------------------------------------------------------------------------

def request_archive(user, year: int, institution: Institution | None = None, district_code: str = "") -> ArchiveJob:
    """Queue the archive of an institution-year (the finance center, or the institution's filer/head)
    or of a district-year (the finance center)."""
    from core.queue import enqueue_after_commit

    from .tasks import build_archive

    if not 2000 <= int(year) <= 2100:
        raise DomainError(_("年度须在 2000 至 2100 之间"), field="year")
    if institution is not None:
        inst = selectors.visible_institutions(user).filter(pk=institution.pk).first()
        if inst is None:
            raise NotFound(_("未找到该机构，或您无权访问"))
        if not (access.is_finance_center(user, inst.district_id)
                or inst.pk in selectors.writer_institution_ids(user)):
            raise NotAllowed(_("只有区金融工作中心或本机构的填报员、负责人可以生成档案"))
        district_id = inst.district_id
    else:
        if not access.is_finance_center(user):
            raise NotAllowed(_("只有区金融工作中心可以生成全区档案"))
        district = access.resolve_district(user, district_code, (Role.FINANCE_CENTER,))
        _finance_of(user, district.pk, _("生成全区档案"))
        district_id = district.pk
    with transaction.atomic():
        running = ArchiveJob.objects.filter(district_id=district_id, institution=institution, year=year,
                                            status__in=[ArchiveStatus.QUEUED, ArchiveStatus.RUNNING],
                                            created_by=_real(user)).first()
        if running is not None:
            return running
        job = ArchiveJob.objects.create(district_id=district_id, institution=institution, year=year,
                                        created_by=_real(user))
        enqueue_after_commit(build_archive, job.pk)
    return job


def run_archive(job_id: int) -> ArchiveJob:
    """Build a queued archive (idempotent: a finished job is left as it is)."""
    from . import archive

    with transaction.atomic():
        job = ArchiveJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status == ArchiveStatus.DONE:
            return job
        job.status, job.progress, job.error = ArchiveStatus.RUNNING, 0, ""
        job.save(update_fields=["status", "progress", "error"])
    try:
        def progress(pct: int) -> None:
            ArchiveJob.objects.filter(pk=job.pk).update(progress=min(99, max(0, pct)))

        handle, count = archive.build(job, progress)
    except Exception as exc:  # the job must end, with the reason shown on the page
        ArchiveJob.objects.filter(pk=job.pk).update(status=ArchiveStatus.FAILED, error=str(exc)[:2000],
                                                    finished_at=timezone.now())
        raise
    scope = job.institution.code if job.institution_id else job.district.code
    from django.core.files import File

    with handle:
        job.file.save(f"archive-{scope}-{job.year}-{job.pk}.zip", File(handle), save=False)
    job.status, job.progress, job.files_count, job.finished_at = ArchiveStatus.DONE, 100, count, timezone.now()
    job.save(update_fields=["file", "status", "progress", "files_count", "finished_at"])
    return job


def reap_stale_archives(older_than) -> int:
    return ArchiveJob.objects.filter(status__in=[ArchiveStatus.QUEUED, ArchiveStatus.RUNNING],
                                     created_at__lt=older_than).update(
        status=ArchiveStatus.FAILED, finished_at=timezone.now(), error=_("超过时限仍未完成，请重新生成"))

