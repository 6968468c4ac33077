"""Staff pages: the triage queue, a case with its actions, statistics, posters and survey links.

Who sees what is decided in selectors (visible_cases / CasePolicy); anything outside it is a 404.
"""

from __future__ import annotations

import io
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import export_jobs
from core.errors import DomainError, NotFound
from core.exports import csv_writer
from institutions import access
from institutions.models import Institution, Role

from . import exports, posters, qr, rules, selectors, services
from .deadlines import due_status
from .models import Complaint, EvidenceImage

FILTER_STATUSES = [(v, label) for v, label in Complaint.Status.choices]


def _require_queue(request: HttpRequest) -> None:
    if not selectors.can_use_queue(request.user):
        raise PermissionDenied


def _bool_param(value: str | None) -> bool | None:
    return {"1": True, "true": True, "0": False, "false": False}.get((value or "").lower())


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _require_queue(request)
    params = request.GET
    try:
        cases = selectors.case_list(request.user, status=params.get("status", ""), kind=params.get("kind", ""),
                                    institution=params.get("institution", "").strip(),
                                    overdue=_bool_param(params.get("overdue")), due=params.get("due", ""),
                                    search=params.get("q", "").strip()[:100], district=params.get("district", ""))
    except (ValueError, NotFound):
        raise Http404
    page = Paginator(cases, 50).get_page(params.get("page"))
    today = timezone.localdate()
    rows = [(case, due_status(case.next_due_on, today, soon_days=_soon()) if case.next_due_on else "")
            for case in page.object_list]
    query = params.copy()
    query.pop("page", None)
    return render(request, "complaints/staff/queue.html", {
        "page": page, "rows": rows, "params": params, "query": query.urlencode(),
        "statuses": FILTER_STATUSES, "kinds": Complaint.Kind.choices,
        "is_finance_center": access.is_finance_center(request.user),
    })


def _soon() -> int:
    return settings.COMPLAINTS_DUE_SOON_DAYS


def _deadline_rows(case: Complaint) -> list[dict]:
    today = timezone.localdate()
    active = rules.active_deadline_keys(kind=case.kind, status=case.status, anonymous=case.anonymous,
                                        involves_party_member=case.involves_party_member,
                                        forwarded=case.forwarded_at is not None, basis=case.basis)
    rows = []
    for key, due in sorted(case.deadlines.items(), key=lambda kv: kv[1]["date"]):
        day = date.fromisoformat(due["date"])
        rows.append({"key": key, "label": rules.DEADLINE_LABELS.get(key, key), "date": day,
                     "provisional": due["provisional"], "basis": due["basis"], "active": key in active,
                     "status": due_status(day, today, soon_days=_soon()) if key in active else ""})
    return rows


def _detail_context(request: HttpRequest, case: Complaint, **extra) -> dict:
    sides = selectors.case_sides(request.user, case)
    policy = selectors.CasePolicy.for_sides(sides)
    actions = [(a, rules.TRANSITIONS[a]) for a in rules.allowed_actions(status=case.status, kind=case.kind,
                                                                        sides=sides, extensions=case.extensions,
                                                                        basis=case.basis)]
    return {
        "case": case, "policy": policy, "sides": sides, "actions": actions,
        "deadline_rows": _deadline_rows(case),
        "events": selectors.events_for(case, policy),
        "complainant_notices": selectors.complainant_notices(case, policy),
        "notes": selectors.notes_for(case, policy),
        "images": list(case.images.all()) if policy.images else [],
        "identity": services.masked_identity(case) if policy.identity else None,
        "duplicates": selectors.duplicate_candidates(case) if rules.FINANCE_CENTER in sides else [],
        "outcomes": Complaint.Outcome.choices,
        "needs_approval": rules.extension_needs_approval(case.kind, case.extensions, case.basis),
        "bases": Complaint.Basis.choices,
        "extension_records": list(case.extension_records.all()),
        "tracked_item": selectors.tracked_item(case),
        "reply_within_default": settings.COMPLAINTS_REFER_REPLY_WORKING_DAYS,
        **extra,
    }


def _get_case(request: HttpRequest, pk: int) -> Complaint:
    _require_queue(request)
    try:
        return selectors.case_detail(request.user, pk)
    except Complaint.DoesNotExist:
        raise Http404(_("未找到，或您无权查看。"))


@login_required
@require_GET
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    return render(request, "complaints/staff/detail.html", _detail_context(request, case))


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = _get_case(request, pk)
    if action not in rules.TRANSITIONS:
        raise Http404
    post = request.POST
    version = post.get("version")
    target = post.get("target", "").strip()
    reply_within = post.get("reply_within", "").strip()
    data = services.ActionInput(reason=post.get("reason", ""), outcome=post.get("outcome", ""),
                                reply=post.get("reply", ""), approval=post.get("approval", ""),
                                target=int(target) if target.isdigit() else None,
                                version=int(version) if (version or "").isdigit() else None,
                                basis=post.get("basis", "").strip(),
                                # Not a number: 0, which the service refuses with its message (400).
                                reply_within=(None if not reply_within
                                              else int(reply_within) if reply_within.isdigit() and len(reply_within) < 4
                                              else 0))
    if data.target is not None and not selectors.visible_cases(request.user).filter(pk=data.target).exists():
        data = services.ActionInput(**{**data.__dict__, "target": -1})
    try:
        services.perform_action(case.pk, action, request.user, data)
    except services.ServiceError as exc:
        status = exc.status
        case = _get_case(request, pk)
        return render(request, "complaints/staff/detail.html",
                      _detail_context(request, case, action_error=exc.message), status=status)
    messages.success(request, _("已完成：{label}").format(label=rules.TRANSITIONS[action].label))
    return redirect("complaints:case-detail", pk=pk)


@login_required
@require_POST
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    try:
        services.add_note(case, request.user, request.POST.get("body", ""),
                          public=request.POST.get("public") == "1")
    except services.ServiceError as exc:
        status = 403 if exc.forbidden else 400
        return render(request, "complaints/staff/detail.html",
                      _detail_context(request, case, note_error=exc.message), status=status)
    messages.success(request, _("已保存。"))
    return redirect("complaints:case-detail", pk=pk)


@login_required
@require_POST
def case_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    case = _get_case(request, pk)
    try:
        identity = services.reveal_identity(case, request.user, request.POST.get("reason", ""))
    except services.ServiceError as exc:
        status = exc.status
        return render(request, "complaints/staff/detail.html",
                      _detail_context(request, case, reveal_error=exc.message), status=status)
    response = render(request, "complaints/staff/detail.html", _detail_context(request, case, revealed=identity))
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def case_image(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    case = _get_case(request, pk)
    policy = selectors.CasePolicy.for_sides(selectors.case_sides(request.user, case))
    if not policy.images:
        raise Http404
    image = get_object_or_404(EvidenceImage, complaint=case, position=position)
    response = FileResponse(image.working.open("rb"), content_type=image.content_type)
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def case_image_original(request: HttpRequest, pk: int, position: int) -> HttpResponse:
    """The sealed original (evidence, with its metadata and GPS): for the finance center, with a
    reason that is logged like an identity reveal (services.release_original)."""
    case = _get_case(request, pk)
    image = get_object_or_404(EvidenceImage, complaint=case, position=position)
    try:
        data = services.release_original(image, request.user, request.POST.get("reason", ""))
    except services.ServiceError as exc:
        status = exc.status
        return render(request, "complaints/staff/detail.html",
                      _detail_context(request, case, original_error=exc.message), status=status)
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="case{case.pk}-{position}-original"'
    response["X-Original-SHA256"] = image.original_sha256
    response["Cache-Control"] = "private, no-store"
    return response


# --- statistics -----------------------------------------------------------------------------


def _stats_scope(request: HttpRequest) -> selectors.StatsScope:
    """The user's districts (or own institution); `?district=` narrows to one of them (404 otherwise)."""
    try:
        scope = selectors.stats_scope(request.user, request.GET.get("district", ""))
    except NotFound as exc:
        raise Http404(str(exc))
    if scope is None:
        raise PermissionDenied
    return scope


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        raise Http404
    if not 2000 <= year <= 2100:
        raise Http404
    return year


STATS_PAGE_SIZE = 50  # institutions a page of the statistics' per-institution table (the totals cover all)


@login_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    scope = _stats_scope(request)
    year = _year(request)
    category = request.GET.get("category", "")
    data = selectors.statistics(year, where=scope.where, category=category, per_institution=False)
    page = Paginator(selectors.statistics_by_institution(year, where=scope.where, category=category),
                     STATS_PAGE_SIZE).get_page(request.GET.get("page"))
    districts = list(access.visible_districts(request.user, selectors.STATS_ROLES)[:50])
    return render(request, "complaints/staff/stats.html", {
        "stats": data, "year": year, "page": page,
        "institution_rows": selectors.with_substantiation_rates(page.object_list),
        "kinds": Complaint.Kind.choices, "outcomes": Complaint.Outcome.choices,
        "months": range(1, 13), "categories": Institution.Category.choices,
        "category": request.GET.get("category", ""),
        "districts": districts if len(districts) > 1 else [], "district": scope.district,
    })


@login_required
@require_http_methods(["GET", "POST"])
def stats_export(request: HttpRequest) -> HttpResponse:
    """The statistics as a file: written at once up to EXPORT_INLINE_ROWS institutions; above, a page
    offering the export in the background (issue 16: a province took 30 s), and POST requests it
    (year, district, category and format are the query string's) and goes to its progress page."""
    scope = _stats_scope(request)
    year = _year(request)
    if request.GET.get("format", "xlsx") not in exports.FORMATS:
        raise Http404
    if request.method == "POST":
        job = export_jobs.request_export(request.user, exports.STATS_KIND, request.GET)
        return redirect("export-job", pk=job.pk)
    rows = selectors.statistics_institution_count(year, where=scope.where, category=request.GET.get("category", ""))
    if export_jobs.too_big(rows):
        return render(request, "core/export_large.html", {"rows": rows})
    made = exports.statistics_export(request.user, request.GET)
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.name}"'
    return response


# --- what the district publishes -------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def disclosure(request: HttpRequest) -> HttpResponse:
    """The finance center's choice, per district, to publish its blacklist (masked) through the
    public API. GET lists its districts; POST {district, publish: 1|0} switches one."""
    if not access.is_finance_center(request.user):
        raise PermissionDenied
    districts = list(access.visible_districts(request.user, (Role.FINANCE_CENTER,))[:50])
    code = request.GET.get("district", "") or request.POST.get("district", "")
    if code:
        try:
            districts = [access.resolve_district(request.user, code, roles=(Role.FINANCE_CENTER,))]
        except NotFound as exc:
            raise Http404(str(exc))
    if request.method == "GET":
        return render(request, "complaints/staff/disclosure.html", {"districts": districts})
    publish = request.POST.get("publish", "")
    try:
        if publish not in ("0", "1"):
            raise services.ServiceError(_("请选择公开或不公开。"), field="publish")
        district = services.set_blacklist_publication(request.user, code, publish == "1")
    except (services.ServiceError, DomainError) as exc:
        return render(request, "complaints/staff/disclosure.html",
                      {"districts": districts, "error": getattr(exc, "message", str(exc))},
                      status=getattr(exc, "status", 400))
    if district.publish_blacklist:
        messages.success(request, _("{district}：黑名单已公开。").format(district=district.name))
    else:
        messages.success(request, _("{district}：黑名单已停止公开。").format(district=district.name))
    return redirect("complaints:disclosure")


# --- posters --------------------------------------------------------------------------------


@login_required
@require_GET
def poster(request: HttpRequest, code: str) -> HttpResponse:
    institution = get_object_or_404(access.scope_queryset(Institution.objects.select_related("district"),
                                                          request.user, ""), code=code)
    html = posters.render_posters([institution], qr.public_base(request))  # stored QR code (posters.py)
    response = HttpResponse(html)
    if request.GET.get("download") == "1":
        response["Content-Disposition"] = f'attachment; filename="poster-{institution.code}.html"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def posters_all(request: HttpRequest) -> HttpResponse:
    """Every active institution's poster in one printable file (one A4 page each), of one district
    with ?district=. The page is stored once per set of institutions and streamed from the file
    (complaints/posters.py): a province's 5,000 posters are 15 MB. A set needing more than
    COMPLAINTS_POSTERS_INLINE new QR codes is offered to be made in the background (POST: an export job)."""
    try:
        institutions = posters.institutions_for(request.user, request.GET.get("district", ""))
    except PermissionError:
        raise PermissionDenied from None
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    base = qr.public_base(request)
    if request.method == "POST":
        query = request.GET.copy()
        query["base"] = base  # the site this page was asked on (the task has no request)
        job = export_jobs.request_export(request.user, posters.POSTERS_KIND, query)
        return redirect("export-job", pk=job.pk)
    stored = posters.download(institutions, base)
    if stored is None:
        return render(request, "core/export_large.html", {
            "heading": _("二维码海报"),
            "summary": _("此次共 %(count)d 家机构的海报，首次生成较慢，将在后台生成；生成后可在进度页面下载，"
                         "之后再下载即为已生成的文件。") % {"count": len(institutions)}})
    return FileResponse(stored, as_attachment=True, filename="posters.html", content_type="text/html; charset=utf-8")


# --- one-time questionnaire links -----------------------------------------------------------


def _link_institutions(request: HttpRequest):
    user = request.user
    if not (access.is_finance_center(user) or access.has_role(user, Role.INSTITUTION_HEAD, Role.INSTITUTION_FILER)):
        raise PermissionDenied
    # The finance center's districts and the user's own institutions, nothing through other grants.
    return access.scope_queryset(Institution.objects.filter(is_active=True), user, "",
                                 roles=(Role.FINANCE_CENTER,)).order_by("code")


@login_required
@require_http_methods(["GET", "POST"])
def survey_links(request: HttpRequest) -> HttpResponse:
    """Issue one-time questionnaire links in bulk and download them as a CSV to send to customers."""
    institutions = _link_institutions(request)
    year = timezone.localdate().year
    context = {"institutions": institutions[:500], "year": year}
    if request.method == "GET":
        return render(request, "complaints/staff/survey_links.html", context)
    institution = institutions.filter(code=request.POST.get("institution", "")).first()
    if institution is None:
        raise Http404
    try:
        count = int(request.POST.get("count", "0"))
        questionnaire = services.ensure_questionnaire(year)
        tokens = services.issue_survey_links(institution, questionnaire, count, request.user,
                                             label=request.POST.get("label", "").strip())
    except (ValueError, services.ServiceError) as exc:
        context["error"] = getattr(exc, "message", _("请填写1至1000之间的数量。"))
        return render(request, "complaints/staff/survey_links.html", context, status=400)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_writer(out)
    writer.writerow([_("序号"), _("机构"), _("问卷链接（一次有效）")])
    for n, token in enumerate(tokens, 1):
        writer.writerow([n, institution.name, request.build_absolute_uri(services.survey_path(token))])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="survey-links-{institution.code}.csv"'
    return response

