"""Employees' points pages: the portrait (清廉画像), the head's staff view, recording, the blacklist."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from activities import selectors as activity_selectors
from core.errors import DomainError
from core.masking import mask_name, mask_warning_text
from core.years import parse_year
from institutions import access
from institutions.models import Employee, Role

from . import selectors, services
from .models import Module, RecordKind, RecordSource

CHART_WIDTH = 240
BAR_HEIGHT = 28


def _year(request) -> int:
    return parse_year(request.GET.get("year"), timezone.localdate().year)


def _employee(request, pk: int) -> Employee:
    employee = access.scope_queryset(Employee.objects.select_related("institution"), request.user).filter(
        pk=pk).first()
    if employee is None or not selectors.can_view_portrait(request.user, employee):
        raise Http404(_("未找到，或您无权查看。"))
    return employee


def _scoped_employee(request, pk: int) -> Employee:
    employee = access.scope_queryset(Employee.objects.select_related("institution"), request.user).filter(
        pk=pk).first()
    if employee is None:
        raise Http404
    return employee


@login_required
def my_portrait(request):
    employee = getattr(request.user, "employee", None) if hasattr(request.user, "employee") else None
    if employee is None:
        raise Http404(_("您的账号没有关联员工信息。"))
    return redirect("staff_points:portrait", pk=employee.pk)


@login_required
def portrait(request, pk: int):
    employee = _employee(request, pk)
    services.log_portrait_view(request.user, employee)
    year = _year(request)
    this_year = selectors.yearly_points(year, employee_ids=[employee.pk])[employee.pk]
    modules = selectors.module_points(employee, year)
    largest = max([max(d, c) for _, _, d, c in modules] + [Decimal(1)])
    bars = [{"label": label, "deductions": d, "commendations": c,
             "deduction_width": int(d / largest * CHART_WIDTH), "commendation_width": int(c / largest * CHART_WIDTH),
             "y": i * BAR_HEIGHT} for i, (_, label, d, c) in enumerate(modules)]
    records = employee.point_records.filter(date__year=year).select_related("violation_type", "recorder")
    return render(request, "staff_points/portrait.html", {
        "employee": employee, "year": year, "points": this_year, "bars": bars,
        "chart_height": len(bars) * BAR_HEIGHT, "chart_width": CHART_WIDTH,
        "history": selectors.colours_by_year(employee, range(year - 2, year + 1)), "records": records,
        "acknowledged": selectors.acknowledgement(employee, year),
        "blacklisted": selectors.published_blacklist().filter(employee=employee).exists(),
        "training": activity_selectors.employee_completion(employee.pk, year),
    })


@login_required
def staff_points(request):
    """The head's (or filer's) view of their institution: colours, proposals, recording."""
    institution = access.primary_institution(request.user)
    if institution is None or not access.has_role(request.user, Role.INSTITUTION_HEAD, Role.INSTITUTION_FILER):
        raise PermissionDenied(_("只有机构负责人和填报员可以查看本机构员工积分。"))
    year = _year(request)
    points = selectors.yearly_points(year, institution.pk)
    employees = list(Employee.objects.filter(institution=institution, is_active=True).order_by("employee_no"))
    for employee in employees:
        employee.year_points = points.get(employee.pk)
    exemplars = {e.employee_id for e in selectors.exemplar_proposals(institution.pk, year)}
    return render(request, "staff_points/staff_points.html", {
        "institution": institution, "year": year, "employees": employees, "exemplar_ids": exemplars,
        "confirmed_ids": selectors.confirmed_exemplars(institution.pk, year),
        "distribution": selectors.colour_distribution(institution.pk, year),
        "types": selectors.violation_types_for(institution.pk).order_by("code"),
        "modules": [m for m in Module if m not in (Module.RED_LINE, Module.BLACKLIST)],
        "sources": RecordSource.choices, "is_head": access.has_role(request.user, Role.INSTITUTION_HEAD),
    })


@login_required
@require_POST
def record(request, pk: int):
    employee = _scoped_employee(request, pk)
    try:
        points = request.POST.get("points", "").strip()
        data = services.RecordInput(
            date=dt.date.fromisoformat(request.POST.get("date", "")),
            kind=request.POST.get("kind", RecordKind.DEDUCTION), violation_code=request.POST.get("violation_code", ""),
            module=request.POST.get("module", ""), points=Decimal(points) if points else None,
            source=request.POST.get("source", RecordSource.MANUAL), note=request.POST.get("note", ""))
        record = services.record_points(request.user, employee, data, request.FILES.get("evidence"))
        note = _("；已提请列入黑名单，待区金融工作中心确认") if record.is_red_line else ""
        if record.exemplar_withdrawn:
            note += _("；其 %(year)s 年度清廉典型确认已撤销（当年有扣分记录）") % {"year": record.date.year}
        messages.success(request, _("已为 %(name)s 录入记录%(note)s。") % {"name": employee.name, "note": note})
    except ValueError:
        messages.error(request, _("日期应为 YYYY-MM-DD。"))
    except InvalidOperation:
        messages.error(request, _("分值应为数字。"))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("staff_points:staff-points")


@login_required
@require_POST
def confirm_exemplar(request, pk: int):
    employee = _scoped_employee(request, pk)
    try:
        services.confirm_exemplar(request.user, employee, _year(request))
        messages.success(request, _("已确认 %(name)s 为清廉典型。") % {"name": employee.name})
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("staff_points:staff-points")


@login_required
def blacklist(request):
    """Finance center: its districts' entries, proposals to decide included; institution heads and
    filers: the confirmed, published list."""
    is_finance = access.is_finance_center(request.user)
    if is_finance:
        entries = selectors.blacklist_to_decide(request.user)
    elif access.is_institution_user(request.user, Role.INSTITUTION_HEAD, Role.INSTITUTION_FILER):
        entries = selectors.published_blacklist()
    else:
        raise PermissionDenied(_("您无权查看黑名单。"))
    entries = list(entries)
    own = access.own_institution_ids(request.user)
    for entry in entries:
        # Names in full to the finance center of the district and to the employee's own institution;
        # everyone else reads the published list masked (黄某), as the public API shows it.
        full = (access.is_finance_center(request.user, entry.employee.institution.district_id)
                or entry.employee.institution_id in own)
        entry.shown_name = entry.employee.name if full else mask_name(entry.employee.name)
        # The decision's reason is free text that names people too ("经核实，黄小明收受礼金属实").
        entry.shown_reason = entry.reason if full else mask_warning_text(entry.reason, [entry.employee.name])
    return render(request, "staff_points/blacklist.html", {"entries": entries, "is_finance": is_finance})


@login_required
@require_POST
def decide_blacklist(request, pk: int):
    entry = get_object_or_404(selectors.blacklist_to_decide(request.user), pk=pk)
    try:
        services.decide_blacklist(request.user, entry, request.POST.get("confirm") == "1",
                                  request.POST.get("reason", ""))
        messages.success(request, _("已处理。"))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("staff_points:blacklist")

