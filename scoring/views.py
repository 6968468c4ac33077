"""Server-rendered pages: institutions file their sheets, reviewers score, the finance center runs the year."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.tabular import TabularError
from institutions import access

from . import selectors, services, sheet_files
from .models import (
    Assessment,
    DistrictYear,
    IndicatorKind,
    Objection,
    ObjectionStatus,
    ScoreSheet,
    SheetStatus,
    Source,
    YearStatus,
)

GAP_SHARE = Decimal("0.2")  # self vs inspection differing by a fifth of the maximum is worth a look


def _current_year(request) -> int | None:
    year = request.GET.get("year", "")
    if year.isdigit() and len(year) <= 4:
        return int(year)
    return selectors.current_year()


def _assessment(request, pk: int) -> Assessment:
    assessment = (services.visible_assessments(request.user).select_related("scheme", "institution")
                  .filter(pk=pk).first())
    if assessment is None:
        raise Http404(_("未找到，或您无权查看。"))
    return assessment


def _finance_only(request) -> None:
    if not access.is_finance_center(request.user):
        raise PermissionDenied(_("只有区金融工作中心可以访问此页面。"))


def _finance_year(request, year: int, source=None) -> DistrictYear:
    """The finance officer's district-year: their district (or `?district=` / the form's `district`
    among several); another district is a 404."""
    _finance_only(request)
    data = source if source is not None else request.GET
    district = access.resolve_district(request.user, data.get("district"), roles=("finance_center",))
    try:
        return services.district_year(district, year)
    except DomainError:
        raise Http404(_("%(district)s %(year)s 年度尚无评价方案") % {"district": district.name, "year": year}) from None


@login_required
def my_assessments(request):
    """Entry point: institution users and reviewers get their list; the finance center its overview."""
    year = _current_year(request)
    if year is None:
        return render(request, "scoring/empty.html")
    if access.is_finance_center(request.user):
        target = reverse("scoring:year-overview", kwargs={"year": year})
        district = request.GET.get("district", "")
        return redirect(f"{target}?district={district}" if district else target)
    assessments = list(services.visible_assessments(request.user).filter(year=year)
                       .select_related("institution", "scheme").order_by("institution__code"))
    sheets = selectors.sheets_with_progress([a.pk for a in assessments])
    fillable_by_assessment = selectors.fillable_sources_by_assessment(request.user, assessments)
    rows = []
    for assessment in assessments:
        by_source = {s.source: s for s in sheets.get(assessment.pk, [])}
        fillable = fillable_by_assessment[assessment.pk]
        rows.append({"assessment": assessment, "sheets": [(s, by_source.get(s)) for s in fillable]})
    years = selectors.scheme_years()
    return render(request, "scoring/my_assessments.html", {"rows": rows, "year": year, "years": years})


def _grouped(indicators) -> OrderedDict:
    groups: OrderedDict[str, list] = OrderedDict()
    for indicator in indicators:
        if indicator.clause_id:
            key = f"{indicator.clause.item.number}. {indicator.clause.item.title}"
        else:
            key = str(IndicatorKind(indicator.kind).label)
        groups.setdefault(key, []).append(indicator)
    return groups


def _sheet_context(request, assessment: Assessment, source: str) -> dict:
    visible = selectors.visible_sources(request.user, assessment)
    if source not in visible:
        raise Http404(_("未找到，或您无权查看。"))
    sheet = selectors.sheet_of(assessment, source)
    status = selectors.district_year_status(assessment)
    year_open = assessment.scheme.status == "active" and (
        status == YearStatus.OPEN
        or (status == YearStatus.NOTICE and services.reopened_for_correction(assessment, source)))
    can_fill = (source in services.fillable_sources(request.user, assessment) and year_open
                and (sheet is None or sheet.status == SheetStatus.DRAFT))
    show_claim = source != Source.SELF and Source.SELF in visible
    indicators = selectors.indicators_with_entries(assessment, [source, Source.SELF] if show_claim else [source])
    filled = sum(1 for i in indicators
                 if (e := i.by_source.get(source)) and (e.points is not None or e.hit is not None))
    for indicator in indicators:
        indicator.entry = indicator.by_source.get(source)
        indicator.claim = indicator.by_source.get(Source.SELF) if show_claim else None
        indicator.shown = _current_text(indicator)
        indicator.shown_note = indicator.entry.note if indicator.entry else ""
        indicator.error = ""
    return {
        "assessment": assessment, "source": source, "source_label": Source(source).label, "sheet": sheet,
        "can_fill": can_fill, "show_claim": show_claim, "groups": _grouped(indicators), "filled": filled,
        "total": len(indicators), "can_submit": can_fill and services.can_submit(request.user, assessment, source),
        "percent": int(filled * 100 / len(indicators)) if indicators else 0, "unfilled": len(indicators) - filled,
    }


def _current_text(indicator) -> str:
    """The stored value as the form shows it ("" when unfilled)."""
    entry = indicator.entry
    if entry is None:
        return ""
    if indicator.kind == IndicatorKind.RED_LINE:
        return "" if entry.hit is None else str(int(entry.hit))
    return "" if entry.points is None else format(entry.points.normalize(), "f")


def _save_form(request, assessment: Assessment, source: str, context: dict) -> dict[str, str]:
    """Save every changed row (and attached evidence), or none of them; returns the problems by code."""
    rows, errors = [], {}
    for indicators in context["groups"].values():
        for indicator in indicators:
            code = indicator.code
            raw = request.POST.get(f"value_{code}", "").strip()
            note = request.POST.get(f"note_{code}", "").strip()
            version = request.POST.get(f"version_{code}", "")
            entry = indicator.entry
            if raw != _current_text(indicator) or note != (entry.note if entry else ""):
                if raw == "":
                    errors[code] = _("指标 %(code)s 不能清空已填的值") % {"code": code}
                    continue
                rows.append(services.SheetRow(code, services.EntryInput(
                    indicator_code=code, raw_value=raw, note=note,
                    expected_version=int(version) if version.isdigit() and len(version) < 10 else None)))
    if errors:
        return errors
    uploads = [(i.code, request.FILES[f"evidence_{i.code}"]) for group in context["groups"].values()
               for i in group if f"evidence_{i.code}" in request.FILES]
    try:
        with transaction.atomic():
            services.save_sheet(request.user, assessment, source, rows)
            for code, upload in uploads:
                try:
                    services.add_evidence(request.user, assessment, source, code, upload)
                except DomainError as exc:
                    errors[code] = str(exc)
            if errors:
                transaction.set_rollback(True)
    except services.SheetRejected as exc:
        return exc.problems
    except services.ROW_ERRORS as exc:
        return {rows[0].key: str(exc)}
    return errors


@login_required
def sheet_form(request, pk: int, source: str):
    """One source's sheet of an assessment: filled in place, saved as a draft."""
    if source not in Source.values:
        raise Http404
    assessment = _assessment(request, pk)
    context = _sheet_context(request, assessment, source)
    if request.method == "POST":
        if not context["can_fill"]:
            messages.error(request, _("该评分表当前不可修改（已提交、已锁定或无权填写）。"))
            return render(request, "scoring/sheet_form.html", context, status=409)
        errors = _save_form(request, assessment, source, context)
        if errors:
            messages.error(request, _("有 %(n)s 项未通过校验，本次未保存任何内容，请修改后重新保存。")
                           % {"n": len(errors)})
            for indicators in context["groups"].values():
                for indicator in indicators:  # show what was typed, with the reason beside it
                    indicator.shown = request.POST.get(f"value_{indicator.code}", indicator.shown).strip()
                    indicator.shown_note = request.POST.get(f"note_{indicator.code}", indicator.shown_note)
                    indicator.error = errors.get(indicator.code, "")
            return render(request, "scoring/sheet_form.html", context, status=400)
        messages.success(request, _("已保存草稿。"))
        return redirect(request.path)
    return render(request, "scoring/sheet_form.html", context)


@login_required
def submit_sheet(request, pk: int, source: str):
    """Confirmation page, then the submission (the head for the self sheet)."""
    if source not in Source.values:
        raise Http404
    assessment = _assessment(request, pk)
    context = _sheet_context(request, assessment, source)
    sheet = context["sheet"] or ScoreSheet(assessment=assessment, source=source)
    context["missing_evidence"] = services.missing_evidence(sheet) if sheet.pk and source == Source.SELF else []
    if request.method == "POST":
        try:
            services.submit_sheet(request.user, assessment, source)
        except DomainError as exc:
            messages.error(request, str(exc))
            return render(request, "scoring/submit_confirm.html", context, status=exc.status)
        messages.success(request, _("“%(sheet)s”评分表已提交。") % {"sheet": Source(source).label})
        return redirect("scoring:sheet", pk=pk, source=source)
    return render(request, "scoring/submit_confirm.html", context)


@login_required
def sheet_template(request, pk: int, source: str):
    """The sheet as an xlsx to fill offline (current values pre-filled)."""
    if source not in Source.values:
        raise Http404
    assessment = _assessment(request, pk)
    if source not in selectors.visible_sources(request.user, assessment):
        raise Http404
    indicators = selectors.indicators_with_entries(assessment, [source])
    data = sheet_files.template_xlsx(assessment, source, indicators)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"{assessment.institution.code}-{assessment.year}-{source}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def sheet_upload(request, pk: int, source: str):
    """Read a filled template back: every row validated; any bad row and nothing is saved."""
    if source not in Source.values:
        raise Http404
    assessment = _assessment(request, pk)
    upload = request.FILES.get("file")
    target = reverse("scoring:sheet", kwargs={"pk": pk, "source": source})
    if upload is None:
        messages.error(request, _("请选择要上传的 xlsx 或 csv 文件。"))
        return redirect(target)
    try:
        rows = sheet_files.read_filled(upload.read(), upload.name)
    except TabularError as exc:
        messages.error(request, str(exc))
        return redirect(target)
    problems = []
    try:
        services.save_sheet(request.user, assessment, source, [
            services.SheetRow(_("第 %(line)s 行") % {"line": line},
                              services.EntryInput(indicator_code=code, raw_value=value, note=note))
            for line, code, value, note in rows])
    except services.SheetRejected as exc:
        problems = [f"{key}：{message}" for key, message in exc.problems.items()]
    except DomainError as exc:
        problems = [_("第 %(line)s 行：%(error)s") % {"line": rows[0][0], "error": exc}
                    if len(rows) == 1 and isinstance(exc, services.ROW_ERRORS) else str(exc)]
    if problems:
        messages.error(request, _("文件未导入，以下行有误：") + "；".join(problems))
    else:
        messages.success(request, _("已从文件导入 %(n)s 项。") % {"n": len(rows)})
    return redirect(target)


@login_required
def assessment_detail(request, pk: int):
    """Every visible source side by side; large self/inspection gaps highlighted; returns and objections."""
    assessment = _assessment(request, pk)
    sources = selectors.visible_sources(request.user, assessment)
    indicators = selectors.indicators_with_entries(assessment, sources)
    for indicator in indicators:
        indicator.cells = [indicator.by_source.get(s) for s in sources]
        own = indicator.by_source.get(Source.SELF)
        inspected = indicator.by_source.get(Source.INSPECTION)
        indicator.gap = bool(
            own and inspected and own.points is not None and inspected.points is not None and indicator.max_points
            and abs(own.points - inspected.points) >= indicator.max_points * GAP_SHARE)
    sheets = selectors.sheets_by_source(assessment)
    result = selectors.visible_result_of(request.user, assessment)
    events, objections = selectors.assessment_history(assessment)
    for objection in objections:
        objection.changes = services.objection_changes(objection)
    status = selectors.district_year_status(assessment)
    is_finance = access.is_finance_center(request.user, assessment.institution.district_id)
    return render(request, "scoring/assessment_detail.html", {
        "assessment": assessment, "sources": [(s, Source(s).label, sheets.get(s)) for s in sources],
        "groups": _grouped(indicators), "result": result, "events": events, "objections": objections,
        "ranked": selectors.ranked_in_district(assessment.year, result.district_id) if result else 0,
        "is_finance": is_finance, "year_status": status, "in_notice": status == YearStatus.NOTICE,
        "all_sources": [(s, Source(s).label) for s in Source.values],
        "can_object": (status == YearStatus.NOTICE
                       and services.is_own_institution_user(request.user, assessment.institution_id)),
    })


@login_required
@require_POST
def return_sheet(request, pk: int, source: str):
    assessment = _assessment(request, pk)
    try:
        services.return_sheet(request.user, assessment, source, request.POST.get("reason", ""))
        messages.success(request, _("已退回“%(sheet)s”评分表。") % {"sheet": Source(source).label})
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("scoring:assessment", pk=pk)


@login_required
@require_POST
def file_objection(request, pk: int):
    assessment = _assessment(request, pk)
    try:
        services.file_objection(request.user, assessment, request.POST.get("reason", ""),
                                request.FILES.get("evidence"))
        messages.success(request, _("异议已提交，区金融工作中心将在公示期内处理。"))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("scoring:assessment", pk=pk)


def _objection(request, pk: int) -> Objection:
    _finance_only(request)
    return get_object_or_404(selectors.finance_objections(request.user), pk=pk)


@login_required
@require_POST
def decide_objection(request, pk: int):
    objection = _objection(request, pk)
    upheld = request.POST.get("upheld") == "1"
    try:
        services.decide_objection(request.user, objection, upheld, request.POST.get("decision", ""))
        messages.success(request, _("异议成立：请在下方重新开放相关评分表，更正并重新提交后再次汇总。") if upheld
                         else _("异议已处理（不成立）。"))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("scoring:assessment", pk=objection.assessment_id)


@login_required
@require_POST
def reopen_for_objection(request, pk: int):
    """Reopen the sheet an upheld objection concerns, with the reason recorded (notice period only)."""
    objection = _objection(request, pk)
    source = request.POST.get("source", "")
    try:
        services.reopen_for_objection(request.user, objection, source, request.POST.get("reason", ""))
        messages.success(request, _("已重新开放“%(sheet)s”评分表：更正并重新提交后，请重新汇总本区结果。")
                         % {"sheet": Source(source).label})
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("scoring:assessment", pk=objection.assessment_id)


@login_required
def objection_list(request, year: int):
    """The district's objections of the year (the year page's “待处理异议” links here)."""
    dy = _finance_year(request, year)
    wanted = request.GET.get("status", "")
    objections = selectors.district_objections(dy, wanted)
    return render(request, "scoring/objections.html", {
        "district_year": dy, "objections": objections, "status": wanted,
        "statuses": ObjectionStatus.choices})


@login_required
def year_overview(request, year: int):
    """The finance center's view of a year: progress per source, results, runs and the notice cycle."""
    dy = _finance_year(request, year)
    data = selectors.year_overview(request.user, dy, request.GET.get("run", ""), request.GET.get("page"))
    rows = []
    for assessment in data["assessments"]:
        by_source = {s.source: s for s in data["sheets"].get(assessment.pk, [])}
        rows.append({"assessment": assessment, "sheets": [by_source.get(s) for s in Source.values],
                     "result": data["results"].get(assessment.institution_id)})
    run = data["run"]
    return render(request, "scoring/year_overview.html", {
        "district_year": dy, "district": dy.district, "scheme": dy.scheme, "rows": rows,
        "total": data["indicators_total"], "run": run, "run_progress": services.run_progress(run) if run else 0,
        "pending_objections": data["pending_objections"],
        "ranked": data["ranked"],
        "colours": services.colour_counts(year, dy.district_id), "years": selectors.scheme_years(),
        "districts": access.visible_districts(request.user, roles=("finance_center",)),
        "sources": [Source(s).label for s in Source.values],
        "page": data["page"],
    })


@login_required
@require_POST
def year_action(request, year: int, action: str):
    dy = _finance_year(request, year, {"district": request.POST.get("district") or request.GET.get("district")})
    name = dy.district.name
    target = f"{reverse('scoring:year-overview', kwargs={'year': year})}?district={dy.district.code}"
    try:
        if action == "aggregate":
            run = services.start_aggregation(year, dy.district, request.user)
            messages.success(request, _("已开始汇总%(name)s结果（任务 #%(run)s）。") % {"name": name, "run": run.pk})
            return redirect(f"{target}&run={run.pk}")
        if action == "notice":
            dy = services.open_notice(dy, request.user)
            messages.success(request, _("%(name)s已进入公示期，至 %(day)s。")
                             % {"name": name, "day": f"{dy.notice_ends_on:%Y-%m-%d}"})
        elif action == "publish":
            services.publish_year(dy, request.user)
            messages.success(request, _("%(name)s %(year)s 年度结果已发布。") % {"name": name, "year": year})
        elif action == "reopen":
            services.reopen_year(dy, request.user, request.POST.get("reason", ""))
            messages.success(request, _("%(name)s %(year)s 年度已重新开放，原因已记录。")
                             % {"name": name, "year": year})
        elif action == "activate":
            if dy.scheme.is_template and not access.is_superuser(request.user):
                raise services.NotAllowed(_("全系统模板方案由系统管理员启用"))
            services.activate_scheme(dy.scheme, request.user)
            messages.success(request, _("%(year)s 年度方案已启用。") % {"year": year})
        elif action == "open":
            created = services.open_year(dy)
            messages.success(request, _("已为%(name)s %(n)s 家机构建立 %(year)s 年度测评表。")
                             % {"name": name, "n": created, "year": year})
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect(target)


@login_required
def evidence_file(request, pk: int):
    """An evidence file, to whoever may see its sheet (others get 404)."""
    from django.http import FileResponse

    evidence = selectors.evidence_for(pk)
    if evidence is None:
        raise Http404
    sheet = evidence.entry.sheet
    assessment = _assessment(request, sheet.assessment_id)
    if sheet.source not in selectors.visible_sources(request.user, assessment):
        raise Http404
    return FileResponse(evidence.file.open("rb"), as_attachment=True, filename=evidence.original_name,
                        content_type=evidence.content_type)
