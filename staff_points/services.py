"""Employees' clean points: recording (a red line proposes the blacklist), blacklist decisions, exemplars,
portrait views and spreadsheet imports. Who may do what is decided here; reads are in selectors.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import DomainError, NotAllowed, StateConflict
from institutions import access
from institutions.models import Employee, Role

from . import selectors
from .models import (
    BlacklistEntry,
    BlacklistStatus,
    Exemplar,
    Module,
    PointRecord,
    PortraitView,
    RecordKind,
    RecordSource,
)

BLACKLIST_MONTHS = 36

__all__ = [
    "DomainError",
    "NotAllowed",
    "RecordInput",
    "StateConflict",
    "after_recording",
    "can_record_for",
    "confirm_exemplar",
    "decide_blacklist",
    "import_records",
    "log_portrait_view",
    "record_points",
    "validated_record",
]


def can_record_for(user, employee: Employee) -> bool:
    """The finance center of the employee's district, or a filer or head of the employee's institution."""
    if access.is_finance_center(user, employee.institution.district_id):
        return True
    return (access.has_role(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
            and employee.institution_id in access.own_institution_ids(user))


@dataclass(frozen=True)
class RecordInput:
    date: dt.date
    kind: str
    violation_code: str = ""
    module: str = ""
    points: Decimal | None = None
    source: str = RecordSource.MANUAL
    note: str = ""


def validated_record(employee: Employee, data: RecordInput) -> dict:
    """What a record copies: a deduction the type's module, points and red line at the time; a
    commendation its own module and points. Raises DomainError."""
    if data.kind == RecordKind.DEDUCTION:
        vtype = selectors.violation_types_for(employee.institution_id).filter(code=data.violation_code).first()
        if vtype is None:
            raise DomainError(_("未知违规类型 {code}").format(code=data.violation_code or _("（空）")))
        return {"violation_type": vtype, "module": vtype.module, "points": vtype.points,
                "is_red_line": vtype.is_red_line}
    if data.kind == RecordKind.COMMENDATION:
        if data.module not in Module.values or data.module in (Module.RED_LINE, Module.BLACKLIST):
            raise DomainError(_("加分记录的模块 {module} 无效").format(module=data.module or _("（空）")))
        if data.points is None or data.points <= 0 or data.points != data.points.quantize(Decimal("0.1")):
            raise DomainError(_("加分须为正数，最多一位小数"))
        return {"violation_type": None, "module": data.module, "points": data.points, "is_red_line": False}
    raise DomainError(_("未知记录类型 {kind}").format(kind=data.kind))


@transaction.atomic
def record_points(user, employee: Employee, data: RecordInput, evidence=None) -> PointRecord:
    """Record one deduction or commendation; a red-line record proposes the employee for the blacklist."""
    if not can_record_for(user, employee):
        raise NotAllowed(_("您无权为该员工录入积分"))
    if data.source not in RecordSource.values:
        raise DomainError(_("未知来源 {source}").format(source=data.source))
    if data.date > timezone.localdate():
        raise DomainError(_("记录日期不能晚于今天"))
    _hold_employee(employee)
    record = PointRecord.objects.create(employee=employee, date=data.date, kind=data.kind, source=data.source,
                                        note=data.note, evidence=evidence or "",
                                        recorder=user if getattr(user, "pk", None) else None,
                                        **validated_record(employee, data))
    after_recording([record])
    return record


def after_recording(records: list[PointRecord]) -> None:
    """Inside the transaction that stored `records` (the form's one or an import's): their employees held
    (in id order, as every locker of employees: a confirmation of an exemplar waits, or is seen), a red
    line proposes the employee for the blacklist, and a deduction withdraws the employee's confirmation
    as that year's exemplar (清廉典型: only an employee without deductions in the year may be one), the
    first such record of the year named as the reason. A few statements whatever the number of records.
    Sets `record.exemplar_withdrawn` on each (whether it withdrew a confirmation), for the message."""
    employee_ids = sorted({record.employee_id for record in records})
    list(Employee.objects.select_for_update().filter(pk__in=employee_ids).order_by("pk").values_list("pk"))
    red = [record for record in records if record.is_red_line]
    if red:
        proposed = set(BlacklistEntry.objects.filter(record__in=red).values_list("record_id", flat=True))
        BlacklistEntry.objects.bulk_create([BlacklistEntry(employee_id=record.employee_id, record=record)
                                            for record in red if record.pk not in proposed])
    first: dict[tuple[int, int], PointRecord] = {}
    for record in records:
        record.exemplar_withdrawn = False
        if record.kind == RecordKind.DEDUCTION:
            first.setdefault((record.employee_id, record.date.year), record)
    if not first:
        return
    standing = Exemplar.objects.filter(employee_id__in={e for e, _y in first}, year__in={y for _e, y in first},
                                       withdrawn_at__isnull=True).values_list("pk", "employee_id", "year")
    now = timezone.now()
    for pk, employee_id, year in standing:
        because = first.get((employee_id, year))
        if because is not None:  # one statement per confirmation withdrawn (a handful a year)
            Exemplar.objects.filter(pk=pk).update(withdrawn_at=now, withdrawn_because=because)
            because.exemplar_withdrawn = True


def _hold_employee(employee: Employee) -> None:
    """Inside a transaction: a record of the employee and the confirmation of the employee as an exemplar
    wait for each other (an exemplar was confirmed while a deduction of the same year was committing)."""
    Employee.objects.select_for_update().filter(pk=employee.pk).exists()


@transaction.atomic
def confirm_exemplar(user, employee: Employee, year: int) -> Exemplar:
    """The institution's head (or the district's finance center) confirms one of the year's proposals."""
    if not (access.is_finance_center(user, employee.institution.district_id)
            or (access.has_role(user, Role.INSTITUTION_HEAD) and can_record_for(user, employee))):
        raise NotAllowed(_("只有本机构负责人可以确认清廉典型"))
    _hold_employee(employee)
    proposals = selectors.exemplar_proposals(employee.institution_id, year, limit=50)
    if employee.pk not in {e.employee_id for e in proposals}:
        raise StateConflict(_("该员工本年度有扣分记录，不能选为清廉典型"))
    confirmer = user if getattr(user, "pk", None) else None
    exemplar, created = Exemplar.objects.get_or_create(employee=employee, year=year,
                                                       defaults={"confirmed_by": confirmer})
    if not created and exemplar.withdrawn_at is not None:
        # Withdrawn by a deduction that has since been removed: confirmed again, as a new confirmation.
        exemplar.withdrawn_at, exemplar.withdrawn_because = None, None
        exemplar.confirmed_by, exemplar.confirmed_at = confirmer, timezone.now()
        exemplar.save(update_fields=["withdrawn_at", "withdrawn_because", "confirmed_by", "confirmed_at"])
    return exemplar


@transaction.atomic
def decide_blacklist(user, entry: BlacklistEntry, confirm: bool, reason: str,
                     starts_on: dt.date | None = None, months: int = BLACKLIST_MONTHS) -> BlacklistEntry:
    """The finance center of the employee's district confirms (for `months` from `starts_on`) or rejects."""
    entry = BlacklistEntry.objects.select_for_update().select_related("employee__institution").get(pk=entry.pk)
    if not access.is_finance_center(user, entry.employee.institution.district_id):
        raise NotAllowed(_("只有区金融工作中心可以确认黑名单"))
    if entry.status != BlacklistStatus.PROPOSED:
        raise StateConflict(_("该条已处理"))
    if not (reason or "").strip():
        raise DomainError(_("请填写确认或驳回的理由"))
    entry.reason, entry.decided_by, entry.decided_at = reason.strip(), user, timezone.now()
    if confirm:
        start = starts_on or timezone.localdate()
        entry.status, entry.starts_on = BlacklistStatus.CONFIRMED, start
        entry.ends_on = add_months(start, months)
    else:
        entry.status = BlacklistStatus.REJECTED
    entry.save()
    return entry


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has no such day."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise ValueError(day)


def log_portrait_view(user, employee: Employee) -> None:
    """Views by anyone but the employee are logged."""
    if employee.user_id != getattr(user, "pk", None):
        PortraitView.objects.create(employee=employee, viewer=user)


def import_records(dataset, year: int, user=None):
    """Point records from a spreadsheet, all-or-nothing; returns the ImportReport."""
    from core.tabular import import_with_resource

    from .resources import PointRecordResource

    return import_with_resource(PointRecordResource(year=year, user=user), dataset)
