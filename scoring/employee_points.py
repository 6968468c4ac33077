"""Employees' clean points: records, yearly totals (set-based), the blacklist, exemplars and portraits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from core.errors import DomainError, NotAllowed, StateConflict
from institutions import access
from institutions.models import Employee, Role

from . import rules
from .models import (
    BlacklistEntry,
    BlacklistStatus,
    Exemplar,
    Module,
    PointRecord,
    PortraitView,
    RecordKind,
    RecordSource,
    ViolationType,
)

ZERO = Decimal(0)


def can_record_for(user, employee: Employee) -> bool:
    if access.is_finance_center(user):
        return True
    return (access.has_role(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
            and access.institution_ids(user) is not None
            and employee.institution_id in access.institution_ids(user))


def violation_types_for(institution_id: int):
    """District-wide types plus the institution's own."""
    return ViolationType.objects.filter(Q(institution__isnull=True) | Q(institution_id=institution_id),
                                        is_active=True)


@dataclass(frozen=True)
class RecordInput:
    date: dt.date
    kind: str
    violation_code: str = ""
    module: str = ""
    points: Decimal | None = None
    source: str = RecordSource.MANUAL
    note: str = ""


def _validated(employee: Employee, data: RecordInput) -> dict:
    if data.kind == RecordKind.DEDUCTION:
        vtype = violation_types_for(employee.institution_id).filter(code=data.violation_code).first()
        if vtype is None:
            raise DomainError(f"未知违规类型 {data.violation_code or '（空）'}")
        return {"violation_type": vtype, "module": vtype.module, "points": vtype.points,
                "is_red_line": vtype.is_red_line}
    if data.kind == RecordKind.COMMENDATION:
        if data.module not in Module.values or data.module in (Module.RED_LINE, Module.BLACKLIST):
            raise DomainError(f"加分记录的模块 {data.module or '（空）'} 无效")
        if data.points is None or data.points <= 0 or data.points != data.points.quantize(Decimal("0.1")):
            raise DomainError("加分须为正数，最多一位小数")
        return {"violation_type": None, "module": data.module, "points": data.points, "is_red_line": False}
    raise DomainError(f"未知记录类型 {data.kind}")


@transaction.atomic
def record_points(user, employee: Employee, data: RecordInput, evidence=None) -> PointRecord:
    """Record one deduction or commendation; a red-line record proposes the employee for the blacklist."""
    if not can_record_for(user, employee):
        raise NotAllowed("您无权为该员工录入积分")
    if data.source not in RecordSource.values:
        raise DomainError(f"未知来源 {data.source}")
    if data.date > timezone.localdate():
        raise DomainError("记录日期不能晚于今天")
    record = PointRecord.objects.create(employee=employee, date=data.date, kind=data.kind, source=data.source,
                                        note=data.note, evidence=evidence or "",
                                        recorder=user if getattr(user, "pk", None) else None,
                                        **_validated(employee, data))
    if record.is_red_line:
        BlacklistEntry.objects.create(employee=employee, record=record)
    return record


@dataclass(frozen=True)
class EmployeeYear:
    employee_id: int
    deductions: Decimal
    commendations: Decimal
    red_line: bool
    total: Decimal
    colour: str


def yearly_points(year: int, institution_id: int | None = None, employee_ids=None) -> dict[int, EmployeeYear]:
    """Every (active) employee's total and colour for the year, from one grouped query."""
    employees = Employee.objects.filter(is_active=True)
    if institution_id is not None:
        employees = employees.filter(institution_id=institution_id)
    if employee_ids is not None:
        employees = Employee.objects.filter(pk__in=employee_ids)
    in_year = Q(point_records__date__year=year)
    rows = employees.values("pk").annotate(
        deductions=Sum("point_records__points", filter=in_year & Q(point_records__kind=RecordKind.DEDUCTION)),
        commendations=Sum("point_records__points",
                          filter=in_year & Q(point_records__kind=RecordKind.COMMENDATION)),
        red=Count("point_records", filter=in_year & Q(point_records__is_red_line=True)),
    ).order_by()
    out = {}
    for row in rows:
        deductions, commendations = row["deductions"] or ZERO, row["commendations"] or ZERO
        total = rules.employee_total(commendations, deductions)
        red = row["red"] > 0
        out[row["pk"]] = EmployeeYear(row["pk"], deductions, commendations, red, total,
                                      rules.employee_colour(total, red))
    return out


def module_points(employee: Employee, year: int) -> list[tuple[str, str, Decimal, Decimal]]:
    """(module, label, deductions, commendations) for each of the eight modules."""
    sums = defaultdict(lambda: [ZERO, ZERO])
    rows = (PointRecord.objects.filter(employee=employee, date__year=year).values("module", "kind")
            .annotate(total=Sum("points")).order_by())
    for row in rows:
        sums[row["module"]][0 if row["kind"] == RecordKind.DEDUCTION else 1] += row["total"]
    return [(m.value, str(m.label), sums[m.value][0], sums[m.value][1]) for m in Module]


def colours_by_year(employee: Employee, years) -> list[tuple[int, EmployeeYear]]:
    return [(year, yearly_points(year, employee_ids=[employee.pk])[employee.pk]) for year in years]


def colour_distribution(institution_id: int, year: int) -> dict[str, int]:
    counts = {c: 0 for c in rules.COLOURS}
    for item in yearly_points(year, institution_id).values():
        counts[item.colour] += 1
    return counts


def exemplar_proposals(institution_id: int, year: int, limit: int = 5) -> list[EmployeeYear]:
    """No deductions, highest points first."""
    candidates = [e for e in yearly_points(year, institution_id).values() if e.deductions == 0 and not e.red_line]
    candidates.sort(key=lambda e: (-e.total, e.employee_id))
    return candidates[:limit]


def confirm_exemplar(user, employee: Employee, year: int) -> Exemplar:
    if not (access.is_finance_center(user) or (access.has_role(user, Role.INSTITUTION_HEAD)
                                               and can_record_for(user, employee))):
        raise NotAllowed("只有本机构负责人可以确认清廉典型")
    if employee.pk not in {e.employee_id for e in exemplar_proposals(employee.institution_id, year, limit=50)}:
        raise StateConflict("该员工本年度有扣分记录，不能选为清廉典型")
    exemplar, _ = Exemplar.objects.get_or_create(employee=employee, year=year, defaults={"confirmed_by": user})
    return exemplar


@transaction.atomic
def decide_blacklist(user, entry: BlacklistEntry, confirm: bool, reason: str,
                     starts_on: dt.date | None = None, months: int = 36) -> BlacklistEntry:
    if not access.is_finance_center(user):
        raise NotAllowed("只有区金融工作中心可以确认黑名单")
    entry = BlacklistEntry.objects.select_for_update().get(pk=entry.pk)
    if entry.status != BlacklistStatus.PROPOSED:
        raise StateConflict("该条已处理")
    if not (reason or "").strip():
        raise DomainError("请填写确认或驳回的理由")
    entry.reason, entry.decided_by, entry.decided_at = reason.strip(), user, timezone.now()
    if confirm:
        start = starts_on or timezone.localdate()
        entry.status, entry.starts_on = BlacklistStatus.CONFIRMED, start
        entry.ends_on = _add_months(start, months)
    else:
        entry.status = BlacklistStatus.REJECTED
    entry.save()
    return entry


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise ValueError(day)


def published_blacklist(today: dt.date | None = None):
    today = today or timezone.localdate()
    return (BlacklistEntry.objects.filter(status=BlacklistStatus.CONFIRMED, starts_on__lte=today,
                                          ends_on__gte=today)
            .select_related("employee__institution", "record__violation_type").order_by("-starts_on"))


def can_view_portrait(user, employee: Employee) -> bool:
    if employee.user_id and employee.user_id == getattr(user, "pk", None):
        return True
    if access.is_finance_center(user):
        return True
    return (access.has_role(user, Role.INSTITUTION_HEAD) and access.institution_ids(user) is not None
            and employee.institution_id in access.institution_ids(user))


def log_portrait_view(user, employee: Employee) -> None:
    if employee.user_id != getattr(user, "pk", None):
        PortraitView.objects.create(employee=employee, viewer=user)


def import_records(dataset, year: int, user=None):
    """Point records from a spreadsheet, all-or-nothing; returns the ImportReport."""
    from core.tabular import import_with_resource

    from .resources import PointRecordResource

    return import_with_resource(PointRecordResource(year=year, user=user), dataset)
