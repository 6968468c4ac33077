"""Read queries of employees' clean points: yearly totals (set-based), modules, proposals, the blacklist.

Totals and colours come from the scoring rules (`scoring.rules.employee_total` / `employee_colour`),
so that an employee's points agree to the cent with what the rest of the portal shows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from institutions import access
from institutions.models import Employee, Role
from scoring import rules

from .models import BlacklistEntry, BlacklistStatus, Exemplar, Module, PointRecord, RecordKind, ViolationType

ZERO = Decimal(0)


def violation_types_for(institution_id: int) -> QuerySet[ViolationType]:
    """District-wide types plus the institution's own (active ones)."""
    return ViolationType.objects.filter(Q(institution__isnull=True) | Q(institution_id=institution_id),
                                        is_active=True)


@dataclass(frozen=True)
class EmployeeYear:
    employee_id: int
    deductions: Decimal
    commendations: Decimal
    red_line: bool
    total: Decimal
    colour: str


def yearly_points(year: int, institution_id: int | None = None, employee_ids=None) -> dict[int, EmployeeYear]:
    """Every (active) employee's total and colour for the year, from one grouped query.

    `employee_ids` picks those employees (active or not) instead of an institution's active staff."""
    if employee_ids is not None:
        employees = Employee.objects.filter(pk__in=employee_ids)
    else:
        employees = Employee.objects.filter(is_active=True)
        if institution_id is not None:
            employees = employees.filter(institution_id=institution_id)
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
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    rows = (PointRecord.objects.filter(employee=employee, date__year=year).values("module", "kind")
            .annotate(total=Sum("points")).order_by())
    for row in rows:
        sums[row["module"]][0 if row["kind"] == RecordKind.DEDUCTION else 1] += row["total"]
    return [(m.value, str(m.label), sums[m.value][0], sums[m.value][1]) for m in Module]


def colours_by_year(employee: Employee, years) -> list[tuple[int, EmployeeYear]]:
    return [(year, yearly_points(year, employee_ids=[employee.pk])[employee.pk]) for year in years]


def colour_distribution(institution_id: int, year: int) -> dict[str, int]:
    """How many of the institution's active employees have each colour in the year."""
    counts = dict.fromkeys(rules.COLOURS, 0)
    for item in yearly_points(year, institution_id).values():
        counts[item.colour] += 1
    return counts


def exemplar_proposals(institution_id: int, year: int, limit: int = 5) -> list[EmployeeYear]:
    """No deductions, highest points first."""
    candidates = [e for e in yearly_points(year, institution_id).values() if e.deductions == 0 and not e.red_line]
    candidates.sort(key=lambda e: (-e.total, e.employee_id))
    return candidates[:limit]


def confirmed_exemplars(institution_id: int, year: int) -> set[int]:
    """The employees of the institution confirmed as the year's exemplars (清廉典型), withdrawn ones left out."""
    return set(Exemplar.objects.filter(employee__institution_id=institution_id, year=year, withdrawn_at__isnull=True)
               .values_list("employee_id", flat=True))


def published_blacklist(today: dt.date | None = None) -> QuerySet[BlacklistEntry]:
    """Confirmed entries within their period (what institution users and the public see)."""
    today = today or timezone.localdate()
    return (BlacklistEntry.objects.filter(status=BlacklistStatus.CONFIRMED, starts_on__lte=today,
                                          ends_on__gte=today)
            .select_related("employee__institution", "record__violation_type").order_by("-starts_on"))


def public_blacklist(today: dt.date | None = None) -> QuerySet[BlacklistEntry]:
    """What the public blacklist API lists: published entries of the districts that chose to publish
    their blacklist (District.publish_blacklist, off by default; API.md "Warnings")."""
    return published_blacklist(today).filter(employee__institution__district__publish_blacklist=True)


def blacklist_to_decide(user) -> QuerySet[BlacklistEntry]:
    """Every entry (proposals included) of the districts where the user is the finance center."""
    entries = BlacklistEntry.objects.select_related("employee__institution", "record__violation_type",
                                                    "decided_by")
    return access.scope_queryset(entries, user, "employee__institution", roles=[Role.FINANCE_CENTER])


def can_view_portrait(user, employee: Employee) -> bool:
    """The employee themselves, the finance center of their district, or their institution's head."""
    if employee.user_id and employee.user_id == getattr(user, "pk", None):
        return True
    if access.is_finance_center(user, employee.institution.district_id):
        return True
    return (access.has_role(user, Role.INSTITUTION_HEAD)
            and employee.institution_id in access.own_institution_ids(user))


def acknowledgement(employee: Employee, year: int):
    """Warnings delivered to the employee that year, and how many were acknowledged (on time)."""
    from warnings_feed.selectors import acknowledgement_by_employee

    return acknowledgement_by_employee([employee.pk], year=year).get(employee.pk)
