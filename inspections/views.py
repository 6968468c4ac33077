"""Pages: the inspector's phone pages (record a visit, photos, findings), the institution's
rectification items (reply with evidence), and the finance center's plan, overdue list and
accept/return. Thin: reads from selectors, writes through services; refusals (core.errors) that
are not about input propagate to core's middleware (403/404 pages)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotAllowed, NotFound, StateConflict
from institutions import access
from institutions.models import Institution
from scoring.models import Indicator, IndicatorKind, NormClause
from tracking import selectors as tracked
from tracking import services as tracking

from . import selectors, services
from .models import Severity, VisitKind

PAGE_SIZE = 30


def _refused(request, exc: DomainError) -> None:
    if isinstance(exc, NotAllowed | NotFound):
        raise exc
    messages.error(request, str(exc))


def _inspector(request) -> None:
    if not (access.is_superuser(request.user) or access.district_ids(request.user, *services.INSPECTOR_ROLES)):
        raise NotAllowed(_("只有区金融工作中心或检查组可以使用督查页面。"))


def _year(request) -> int:
    value = (request.POST if request.method == "POST" else request.GET).get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else timezone.localdate().year


# --- visits (inspectors, finance center) --------------------------------------------------------

@login_required
def visits(request: HttpRequest) -> HttpResponse:
    _inspector(request)
    year = _year(request)
    qs = selectors.visible_visits(request.user).filter(visited_on__year=year).order_by("-visited_on", "-id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "inspections/visits.html", {"page": page, "year": year})


@login_required
def visit_new(request: HttpRequest) -> HttpResponse:
    _inspector(request)
    districts = access.district_ids(request.user, *services.INSPECTOR_ROLES)
    institutions = Institution.objects.filter(is_active=True).order_by("code")
    if districts is not None:
        institutions = institutions.filter(district_id__in=districts)
    values = {"visited_on": timezone.localdate().isoformat(), "kind": VisitKind.PLANNED}
    if request.method == "POST":
        values = request.POST.dict()
        try:
            visited_on = date.fromisoformat(request.POST.get("visited_on", ""))
        except ValueError:
            messages.error(request, _("请填写检查日期。"))
        else:
            try:
                institution = services.institution_for(request.user, request.POST.get("institution_code", ""))
                visit = services.record_visit(request.user, institution, services.VisitInput(
                    visited_on=visited_on, kind=request.POST.get("kind", ""), team=request.POST.get("team", ""),
                    notes=request.POST.get("notes", ""), people_met=request.POST.get("people_met", ""),
                    joint_with_discipline=request.POST.get("joint_with_discipline") == "on"),
                    photos=request.FILES.getlist("photos"))
            except NotFound:
                messages.error(request, _("请选择本区的机构。"))
            except DomainError as exc:
                _refused(request, exc)
            else:
                messages.success(request, _("已记录督查，请继续登记发现的问题。"))
                return redirect("inspections:visit", pk=visit.pk)
    return render(request, "inspections/visit_new.html", {
        "institutions": institutions[:500], "kinds": VisitKind.choices, "values": values}, status=200)


@login_required
def visit(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visit_detail(request.user, pk)
    if visit is None:
        raise Http404
    may_inspect = services.may_inspect(request.user, visit.district_id)
    context = {"visit": visit, "may_inspect": may_inspect, "severities": Severity.choices,
               "findings": selectors.visible_findings(request.user).filter(visit=visit).order_by("id")}
    if may_inspect:
        norms = services.norms_for(visit.district_id, visit.visited_on.year)
        context["clauses"] = (NormClause.objects.filter(norms=norms).select_related("item")
                              .order_by("item__number", "position") if norms else [])
        scheme = services.scheme_for(visit.district_id, visit.visited_on.year)
        context["bonus_indicators"] = (Indicator.objects.filter(scheme=scheme, kind=IndicatorKind.BONUS)
                                       .order_by("position", "code") if scheme else [])
    return render(request, "inspections/visit.html", context)


def _visit_for_write(request, pk):
    visit = selectors.visible_visits(request.user).filter(pk=pk).first()
    if visit is None:
        raise Http404
    return visit


@require_POST
@login_required
def visit_finding(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_for_write(request, pk)
    try:
        services.add_finding(visit, request.user, clause=request.POST.get("clause", ""),
                             description=request.POST.get("description", ""),
                             severity=request.POST.get("severity", ""),
                             rectify_within=request.POST.get("rectify_within", ""))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已登记问题，整改通知书已更新。"))
    return redirect("inspections:visit", pk=visit.pk)


@require_POST
@login_required
def visit_photos(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_for_write(request, pk)
    try:
        added = services.add_photos(visit, request.user, request.FILES.getlist("photos"))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已上传 %(n)s 张照片。") % {"n": len(added)})
    return redirect("inspections:visit", pk=visit.pk)


@require_POST
@login_required
def visit_bonus(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_for_write(request, pk)
    try:
        services.confirm_bonus(visit, request.user, indicator_code=request.POST.get("indicator", ""),
                               evidence=request.POST.get("evidence", ""))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已确认加分项。"))
    return redirect("inspections:visit", pk=visit.pk)


@login_required
def visit_notice(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visible_visits(request.user).select_related("district", "institution").filter(pk=pk).first()
    if visit is None:
        raise Http404
    data = services.notice_pdf(visit)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{visit.pk}.pdf"'
    return response


@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    row = selectors.photo_for(request.user, pk)
    if row is None:
        raise Http404
    return FileResponse(row.working.open("rb"), content_type=row.content_type)


# --- rectifications (institutions, finance center, inspectors) ----------------------------------

@login_required
def rectifications(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    institution = request.GET.get("institution", "")
    qs = selectors.filter_findings(selectors.visible_findings(request.user), status=status, institution=institution)
    qs = qs.order_by("tracked_item__due_on", "id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    year = _year(request)
    reviewer = bool(access.is_superuser(request.user) or access.district_ids(request.user, *services.INSPECTOR_ROLES))
    figures = None
    by_institution = []
    if reviewer:
        try:  # the figures of the one district (or the one chosen with ?district= among several)
            district = access.resolve_district(request.user, request.GET.get("district"),
                                               roles=services.INSPECTOR_ROLES)
        except NotFound:
            raise
        except DomainError:
            district = None
        if district is not None:
            figures = selectors.tally(year, district_id=district.pk)
            by_institution = selectors.tally_by_institution(district.pk, year)
    else:
        own = access.member_institution_ids(request.user, *tracked.MEMBER_ROLES)
        if own:
            figures = selectors.tally(year, institution_id=min(own))
    return render(request, "inspections/rectifications.html", {
        "page": page, "status": status, "institution": institution, "reviewer": reviewer, "figures": figures,
        "by_institution": by_institution, "year": year,
        "statuses": [("open", _("待整改")), ("overdue", _("已逾期")), ("reported", _("待审核")),
                     ("closed", _("已销号"))]})


@login_required
def rectification(request: HttpRequest, pk: int) -> HttpResponse:
    finding = selectors.finding_detail(request.user, pk)
    if finding is None:
        raise Http404
    item = finding.tracked_item
    return render(request, "inspections/rectification.html", {
        "finding": finding, "item": item,
        "replies": item.replies.prefetch_related("files").select_related("author").order_by("created_at", "id"),
        "history": tracked.history(item),
        "may_report": tracking.may_report(request.user, item) and item.status == "open",
        "may_review": tracking.may_review(request.user, item) and item.status == "reported",
    })


def _finding_for_write(request, pk):
    finding = selectors.finding_detail(request.user, pk)
    if finding is None:
        raise Http404
    return finding


@require_POST
@login_required
def rectification_report(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_for_write(request, pk)
    try:
        services.report(finding, request.user, measures=request.POST.get("measures", ""),
                        files=request.FILES.getlist("evidence"))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已报送整改情况，等待审核。"))
    return redirect("inspections:rectification", pk=finding.pk)


@require_POST
@login_required
def rectification_accept(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_for_write(request, pk)
    try:
        services.accept(finding, request.user, note=request.POST.get("note", ""))
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已审核通过，予以销号。"))
    return redirect("inspections:rectification", pk=finding.pk)


@require_POST
@login_required
def rectification_return(request: HttpRequest, pk: int) -> HttpResponse:
    finding = _finding_for_write(request, pk)
    try:
        services.return_finding(finding, request.user, reason=request.POST.get("reason", ""),
                                rectify_within=request.POST.get("rectify_within", "").strip() or None)
    except DomainError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("已退回，要求重新整改。"))
    return redirect("inspections:rectification", pk=finding.pk)


# --- plans (finance center) ----------------------------------------------------------------------

@login_required
def plan(request: HttpRequest) -> HttpResponse:
    if not access.is_finance_center(request.user):
        raise NotAllowed(_("只有区金融工作中心可以制定督查计划。"))
    district = access.resolve_district(request.user, request.GET.get("district") or request.POST.get("district"),
                                       roles=("finance_center",))
    year = _year(request)
    plan_row = selectors.plans_for(request.user).filter(district=district, year=year).first()
    if request.method == "POST":
        try:
            if plan_row is None:
                plan_row = services.create_plan(request.user, district, year)
            if request.FILES.get("file"):
                upload = request.FILES["file"]
                report = services.import_plan(request.user, plan_row, upload.read(), upload.name)
                if report.ok:
                    messages.success(request, _("已导入：%(s)s") % {"s": report.summary()})
                else:
                    messages.error(request, _("未导入任何条目：") + "；".join(str(p) for p in report.problems[:20]))
            elif request.POST.get("institution_code"):
                services.add_plan_entry(request.user, plan_row, institution_code=request.POST["institution_code"],
                                        month=request.POST.get("month"), kind=request.POST.get("kind", "planned"),
                                        team=request.POST.get("team", ""),
                                        joint_with_discipline=request.POST.get("joint_with_discipline") == "on")
                messages.success(request, _("已加入计划。"))
        except StateConflict as exc:
            messages.error(request, str(exc))
        except DomainError as exc:
            _refused(request, exc)
        return redirect(f"{request.path}?year={year}&district={district.code}")
    entries, page = [], None
    if plan_row is not None:
        page = Paginator(plan_row.entries.select_related("institution").order_by("month", "institution__code", "pk"),
                         PAGE_SIZE).get_page(request.GET.get("page"))
        visited = set(selectors.visible_visits(request.user)
                      .filter(visited_on__year=year, institution_id__in={e.institution_id for e in page})
                      .values_list("institution_id", "visited_on__month"))
        entries = [{"entry": entry, "done": (entry.institution_id, entry.month) in visited} for entry in page]
    return render(request, "inspections/plan.html", {
        "district": district, "year": year, "plan": plan_row, "entries": entries, "page": page,
        "kinds": VisitKind.choices, "months": range(1, 13)})
