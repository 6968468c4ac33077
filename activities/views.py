"""Pages of the programme's year. Thin: reads from selectors, writes through services; a refusal
shows its message (NotFound is a 404)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import export_jobs
from core.errors import DomainError, NotFound
from core.years import parse_year
from institutions import access
from institutions.models import Employee, Role

from . import calendar as programme_calendar
from . import exports, forms, selectors, services
from .models import ActivityFile, ArchiveStatus, EvidenceSource, NoticeAttachment, NoticeRecipient

PAGE_SIZE = 30


def _user_page(view):
    """Login required, and the app's users only (finance center, filers and heads): 403 otherwise."""
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_use(request.user):
            raise PermissionDenied(_("本页面仅供区金融工作中心和机构填报员、负责人使用。"))
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from None
    return wrapped


def _year(request, default=None) -> int:
    try:
        return parse_year(request.GET.get("year"), default or timezone.localdate().year)
    except DomainError:
        raise Http404(_("年度无效")) from None


def _page(request, qs):
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _refused(request, exc: DomainError, to: str):
    if isinstance(exc, NotFound):
        raise Http404(str(exc))
    messages.error(request, str(exc))
    return redirect(to)


def _writer_institution(request):
    """The institution the user writes for (their first filer/head institution), else None."""
    ids = selectors.writer_institution_ids(request.user)
    return selectors.visible_institutions(request.user).filter(pk__in=ids).first() if ids else None


def _finance_district(request):
    """The finance center's district for pages that need one (?district= among several), else None."""
    if not access.is_finance_center(request.user):
        return None
    try:
        return access.resolve_district(request.user, request.GET.get("district") or request.POST.get("district"),
                                       (Role.FINANCE_CENTER,))
    except NotFound as exc:
        raise Http404(str(exc)) from None
    except DomainError:
        return access.visible_districts(request.user, (Role.FINANCE_CENTER,)).first()


def _serve(field, name: str, content_type: str = "application/octet-stream"):
    try:
        handle = field.open("rb")
    except (OSError, ValueError):
        raise Http404(_("文件不存在")) from None
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


# --- home ---------------------------------------------------------------------------------------

@_user_page
def home(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    institution = _writer_institution(request)
    district = _finance_district(request)
    context = {"year": year, "institution": institution, "district": district,
               "activities": selectors.activities(request.user, selectors.LedgerFilter(year=year)).count(),
               "trainings": selectors.trainings(request.user, year).count(),
               "notices": selectors.notices(request.user).count()}
    if institution:
        context["completion"] = selectors.institution_completion([institution.pk], year)[institution.pk]
        context["pending_returns"] = selectors.recipients(request.user).filter(
            institution=institution, return_status__in=["pending", "returned"]).select_related("notice")[:20]
    if district:
        # A page of the district's institutions at a time (`?page=`): 5,000 rows in a province (issue 16).
        page = _page(request, selectors.visible_institutions(request.user).filter(district=district, is_active=True))
        institutions = list(page.object_list)
        rates = selectors.institution_completion([i.pk for i in institutions], year)
        counts = selectors.activity_counts([i.pk for i in institutions], year)
        context["rows"] = [(i, rates[i.pk], counts.get(i.pk, 0)) for i in institutions]
        context["page"] = page
        context["query"] = f"year={year}"
    return render(request, "activities/home.html", context)


# --- the ledger ---------------------------------------------------------------------------------

def _ledger_filters(request) -> selectors.LedgerFilter:
    return forms.ledger_filters(request.GET)


@_user_page
def ledger(request: HttpRequest) -> HttpResponse:
    filters = _ledger_filters(request)
    page = _page(request, selectors.activities(request.user, filters))
    return render(request, "activities/ledger.html", {
        "page": page, "filter_form": forms.LedgerFilterForm(request.GET or None),
        "institution": _writer_institution(request), "finance": access.is_finance_center(request.user),
        "query": request.GET.urlencode()})


@_user_page
@require_http_methods(["GET", "POST"])
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The ledger as xlsx: written at once up to EXPORT_INLINE_ROWS activities; above, a page offering
    the export in the background (issue 16: a province's year took 10–60 s), and POST requests it (the
    filters are the query string's) and goes to its progress page."""
    if request.method == "POST":
        job = export_jobs.request_export(request.user, exports.LEDGER_KIND, request.GET)
        return redirect("export-job", pk=job.pk)
    rows = selectors.activities_count(request.user, _ledger_filters(request))
    if export_jobs.too_big(rows):
        return render(request, "core/export_large.html", {"rows": rows})
    made = exports.ledger_file(request.user, request.GET)
    response = HttpResponse(made.content, content_type=made.content_type)
    response["Content-Disposition"] = f'attachment; filename="{made.name}"'
    return response


def _activity_form(request, institution, data=None, initial=None):
    services.ensure_catalogue(institution.district_id)
    year = initial.get("year") if initial else timezone.localdate().year
    initial = {k: v for k, v in (initial or {}).items() if k != "year"}
    return forms.ActivityForm(
        data, initial=initial or None, kinds=selectors.kinds_for(institution.district_id),
        employees=Employee.objects.filter(institution=institution, is_active=True).order_by("employee_no"),
        clauses=services.clauses_for(institution.district_id, year))


@_user_page
def activity_new(request: HttpRequest) -> HttpResponse:
    institution = _writer_institution(request)
    if institution is None:
        raise PermissionDenied(_("只有机构填报员或负责人可以登记活动。"))
    form = _activity_form(request, institution, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            activity = services.record_activity(request.user, institution, form.to_input())
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise Http404(str(exc)) from None
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("活动已登记。"))
            return redirect("activities:activity", pk=activity.pk)
    return render(request, "activities/activity_form.html", {"form": form, "institution": institution},
                  status=400 if request.method == "POST" else 200)


@_user_page
def activity_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_detail(request.user, pk)
    if activity is None:
        raise Http404
    if activity.institution_id not in selectors.writer_institution_ids(request.user):
        raise PermissionDenied(_("只有本机构的填报员或负责人可以修改活动。"))
    initial = {"kind": activity.kind_id, "title": activity.title, "held_on": activity.held_on,
               "place": activity.place, "organiser": activity.organiser,
               "participants": [e.pk for e in activity.participants.all()],
               "participant_count": activity.participant_count, "description": activity.description,
               "clauses": [c.pk for c in activity.clauses.all()], "year": activity.year}
    form = _activity_form(request, activity.institution, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_activity(request.user, activity, form.to_input())
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise Http404(str(exc)) from None
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("活动已修改。"))
            return redirect("activities:activity", pk=activity.pk)
    return render(request, "activities/activity_form.html", {"form": form, "institution": activity.institution,
                                                             "activity": activity},
                  status=400 if request.method == "POST" else 200)


@_user_page
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_detail(request.user, pk)
    if activity is None:
        raise Http404
    may_write = activity.institution_id in selectors.writer_institution_ids(request.user)
    return render(request, "activities/activity_detail.html", {
        "activity": activity, "may_write": may_write, "files_form": forms.FilesForm()})


@require_POST
@_user_page
def activity_files(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_detail(request.user, pk)
    if activity is None:
        raise Http404
    try:
        services.add_activity_files(request.user, activity, request.FILES.getlist("files"),
                                    request.POST.get("kind", ""))
    except DomainError as exc:
        return _refused(request, exc, reverse("activities:activity", args=[pk]))
    messages.success(request, _("附件已上传。"))
    return redirect("activities:activity", pk=pk)


@require_POST
@_user_page
def activity_delete(request: HttpRequest, pk: int) -> HttpResponse:
    activity = selectors.activity_detail(request.user, pk)
    if activity is None:
        raise Http404
    try:
        services.delete_activity(request.user, activity)
    except DomainError as exc:
        return _refused(request, exc, reverse("activities:activity", args=[pk]))
    messages.success(request, _("活动已删除。"))
    return redirect("activities:ledger")


@_user_page
def activity_file(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ActivityFile.objects.filter(
        activity__in=selectors.activities(request.user).values("pk")), pk=pk)
    return _serve(row.file, row.original_name, row.content_type)


# --- trainings ----------------------------------------------------------------------------------

@_user_page
def trainings(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    institution = _writer_institution(request)
    form = None
    if institution:
        form = forms.TrainingForm(request.POST or None, clauses=services.clauses_for(institution.district_id, year))
        if request.method == "POST" and form.is_valid():
            try:
                session = services.record_training(request.user, institution, form.to_input())
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise Http404(str(exc)) from None
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("培训已登记，请勾选或导入签到。"))
                return redirect("activities:training", pk=session.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("只有机构填报员或负责人可以登记培训。"))
    context = {"year": year, "form": form, "institution": institution,
               "page": _page(request, selectors.trainings(request.user, year)),
               "required": selectors.required_hours()}
    if institution:
        context["hours"] = selectors.employee_hours(institution.pk, year)
    district = _finance_district(request)
    if district:
        rates_page = Paginator(selectors.visible_institutions(request.user).filter(district=district, is_active=True),
                               PAGE_SIZE).get_page(request.GET.get("rpage"))
        institutions = list(rates_page.object_list)
        rates = selectors.institution_completion([i.pk for i in institutions], year)
        context["rates"] = [(i, rates[i.pk]) for i in institutions]
        context["rates_page"] = rates_page
    return render(request, "activities/trainings.html", context,
                  status=400 if request.method == "POST" else 200)


@_user_page
def training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.training_detail(request.user, pk)
    if session is None:
        raise Http404
    may_write = session.institution_id in selectors.writer_institution_ids(request.user)
    if request.method == "POST":
        if not may_write:
            raise PermissionDenied(_("只有本机构的填报员或负责人可以签到。"))
        raw = request.POST.getlist("employees")
        if not all(v.isdigit() and len(v) < 12 for v in raw):
            messages.error(request, _("签到人员无效。"))
            return redirect("activities:training", pk=pk)
        try:
            n = services.set_attendance(request.user, session, [int(v) for v in raw])
        except DomainError as exc:
            return _refused(request, exc, reverse("activities:training", args=[pk]))
        messages.success(request, _("签到已保存：%(n)s 人。") % {"n": n})
        return redirect("activities:training", pk=pk)
    attended = {a.employee_id: a for a in session.attendance.all()}
    employees = Employee.objects.filter(institution_id=session.institution_id, is_active=True).order_by("employee_no")
    return render(request, "activities/training_detail.html", {
        "session": session, "may_write": may_write, "import_form": forms.ImportForm(),
        "rows": [(e, attended.get(e.pk)) for e in employees]})


@require_POST
@_user_page
def training_import(request: HttpRequest, pk: int) -> HttpResponse:
    session = selectors.training_detail(request.user, pk)
    if session is None:
        raise Http404
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择签到表文件。"))
        return redirect("activities:training", pk=pk)
    if upload.size > 5 * 1024 * 1024:
        messages.error(request, _("签到表不能超过 5 MB。"))
        return redirect("activities:training", pk=pk)
    try:
        report = services.import_attendance(request.user, session, upload.read(), upload.name)
    except DomainError as exc:
        return _refused(request, exc, reverse("activities:training", args=[pk]))
    if report.ok:
        messages.success(request, _("签到已导入：%(s)s。") % {"s": report.summary()})
    else:
        messages.error(request, _("签到表有误，未导入任何记录：") + "；".join(str(p) for p in report.problems[:20]))
    return redirect("activities:training", pk=pk)


# --- self-chosen actions and showcases ----------------------------------------------------------

@_user_page
def actions(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    institution = _writer_institution(request)
    form = None
    if institution:
        form = forms.ActionForm(request.POST or None, initial={"year": year, "status": "planned"},
                                clauses=services.clauses_for(institution.district_id, year))
        if request.method == "POST" and form.is_valid():
            try:
                services.save_action(request.user, institution, form.to_input())
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise Http404(str(exc)) from None
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("自选动作已登记。"))
                return redirect(f"{reverse('activities:actions')}?year={form.cleaned_data['year']}")
    elif request.method == "POST":
        raise PermissionDenied(_("只有机构填报员或负责人可以登记自选动作。"))
    return render(request, "activities/actions.html", {
        "year": year, "form": form, "page": _page(request, selectors.actions(request.user, year)),
        "own": selectors.writer_institution_ids(request.user),
        "finance": access.is_finance_center(request.user)}, status=400 if request.method == "POST" else 200)


@_user_page
def action_edit(request: HttpRequest, pk: int) -> HttpResponse:
    action = selectors.actions(request.user).filter(pk=pk).first()
    if action is None:
        raise Http404
    if action.institution_id not in selectors.writer_institution_ids(request.user):
        raise PermissionDenied(_("只有本机构的填报员或负责人可以修改自选动作。"))
    initial = {"year": action.year, "title": action.title, "goals": action.goals, "measures": action.measures,
               "results": action.results, "status": action.status, "clauses": [c.pk for c in action.clauses.all()]}
    form = forms.ActionForm(request.POST or None, initial=initial,
                            clauses=services.clauses_for(action.institution.district_id, action.year))
    if request.method == "POST" and form.is_valid():
        try:
            services.save_action(request.user, action.institution, form.to_input(), action=action)
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise Http404(str(exc)) from None
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("自选动作已修改。"))
            return redirect(f"{reverse('activities:actions')}?year={form.cleaned_data['year']}")
    return render(request, "activities/action_form.html", {"form": form, "action": action},
                  status=400 if request.method == "POST" else 200)


@require_POST
@_user_page
def action_showcase(request: HttpRequest, pk: int) -> HttpResponse:
    action = selectors.actions(request.user).filter(pk=pk).first()
    if action is None:
        raise Http404
    try:
        services.mark_showcase(request.user, action, request.POST.get("on") == "1", request.POST.get("note", ""))
    except DomainError as exc:
        return _refused(request, exc, f"{reverse('activities:actions')}?year={action.year}")
    messages.success(request, _("已更新样板评定。"))
    return redirect(f"{reverse('activities:actions')}?year={action.year}")


@login_required
def showcases(request: HttpRequest) -> HttpResponse:
    """The district's showcases (样板): every user of the district (institution users their own)."""
    districts = access.visible_districts(request.user)
    code = request.GET.get("district", "")
    district = districts.filter(code=code).first() if code else districts.first()
    if district is None:
        raise Http404
    try:
        year = parse_year(request.GET.get("year"), None)
    except DomainError:
        year = None
    return render(request, "activities/showcases.html", {
        "district": district, "districts": districts, "year": year,
        "items": selectors.showcases(district.pk, year)})


@_user_page
def kinds(request: HttpRequest) -> HttpResponse:
    """The district's catalogue of activity kinds: everyone reads it; the finance center adds to it."""
    district = _finance_district(request)
    institution = _writer_institution(request)
    district_id = district.pk if district else institution.district_id
    services.ensure_catalogue(district_id)
    form = forms.KindForm(request.POST or None) if district else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("只有区金融工作中心可以维护活动类型。"))
        if form.is_valid():
            try:
                services.add_kind(request.user, district, form.cleaned_data["category"], form.cleaned_data["name"])
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise Http404(str(exc)) from None
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("活动类型已添加。"))
                return redirect(f"{reverse('activities:kinds')}?district={district.code}")
    return render(request, "activities/kinds.html", {
        "form": form, "district": district, "items": selectors.kinds_for(district_id)},
        status=400 if request.method == "POST" else 200)


# --- campaigns and notices ----------------------------------------------------------------------

@_user_page
def notices(request: HttpRequest) -> HttpResponse:
    district = _finance_district(request)
    form = None
    if district:
        form = forms.NoticeForm(
            request.POST or None, request.FILES or None,
            campaigns=selectors.campaigns(request.user).filter(district=district),
            clauses=services.clauses_for(district.pk, timezone.localdate().year))
        if request.method == "POST" and form.is_valid():
            try:
                notice = services.publish_notice(request.user, form.to_input(district.code),
                                                 request.FILES.getlist("attachments"))
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise Http404(str(exc)) from None
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("通知已发布。"))
                return redirect("activities:notice", pk=notice.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("只有区金融工作中心可以发布通知。"))
    page = _page(request, selectors.notices(request.user))
    stats = selectors.notice_stats([n.pk for n in page.object_list])
    own = selectors.writer_institution_ids(request.user)
    receipts = {r.notice_id: r for r in NoticeRecipient.objects.filter(
        notice__in=page.object_list, institution_id__in=own)} if own else {}
    return render(request, "activities/notices.html", {
        "form": form, "district": district, "page": page,
        "rows": [(n, stats.get(n.pk), receipts.get(n.pk)) for n in page.object_list]},
        status=400 if request.method == "POST" else 200)


@_user_page
def notice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(selectors.notices(request.user), pk=pk)
    services.mark_read(request.user, notice)
    receipt = selectors.receipt_of(request.user, notice)
    finance = access.is_finance_center(request.user, notice.district_id)
    context = {"notice": notice, "receipt": receipt, "finance": finance,
               "attachments": notice.attachments.all(), "return_form": forms.ReturnForm(),
               "today": timezone.localdate()}
    if finance:
        page = _page(request, notice.recipients.select_related("institution", "read_by").order_by("institution__code",
                                                                                                   "pk"))
        rows = list(page.object_list)
        for r in rows:
            r.late = selectors.is_late(r)
        context["recipients"] = rows
        context["page"] = page
        context["stats"] = selectors.notice_stats([notice.pk]).get(notice.pk)
    return render(request, "activities/notice_detail.html", context)


@_user_page
def notice_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(NoticeAttachment.objects.filter(notice__in=selectors.notices(request.user)), pk=pk)
    return _serve(row.file, row.original_name, row.content_type)


@require_POST
@_user_page
def return_submit(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = get_object_or_404(selectors.recipients(request.user), pk=pk)
    form = forms.ReturnForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("报送内容无效。"))
        return redirect("activities:notice", pk=recipient.notice_id)
    try:
        services.submit_return(request.user, recipient, form.cleaned_data["text"], form.cleaned_data["file"])
    except DomainError as exc:
        return _refused(request, exc, reverse("activities:notice", args=[recipient.notice_id]))
    messages.success(request, _("已报送。"))
    return redirect("activities:notice", pk=recipient.notice_id)


@require_POST
@_user_page
def return_decide(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = get_object_or_404(selectors.recipients(request.user), pk=pk)
    form = forms.DecideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("审核意见无效。"))
        return redirect("activities:notice", pk=recipient.notice_id)
    d = form.cleaned_data
    try:
        services.decide_return(request.user, recipient, d["decision"] == "accept", d["reason"], d["working_days"])
    except DomainError as exc:
        return _refused(request, exc, reverse("activities:notice", args=[recipient.notice_id]))
    messages.success(request, _("已审核。"))
    return redirect("activities:notice", pk=recipient.notice_id)


@_user_page
def return_file(request: HttpRequest, pk: int) -> HttpResponse:
    recipient = get_object_or_404(selectors.recipients(request.user), pk=pk)
    if not recipient.return_file:
        raise Http404
    return _serve(recipient.return_file, recipient.return_file_name)


@_user_page
def campaigns(request: HttpRequest) -> HttpResponse:
    district = _finance_district(request)
    form = None
    if district:
        form = forms.CampaignForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                campaign = services.create_campaign(request.user, form.to_input(district.code))
            except DomainError as exc:
                if isinstance(exc, NotFound):
                    raise Http404(str(exc)) from None
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            else:
                messages.success(request, _("专项行动已创建。"))
                return redirect("activities:campaign", pk=campaign.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("只有区金融工作中心可以发起专项行动。"))
    items = list(selectors.campaigns(request.user))
    finance = access.is_finance_center(request.user)
    return render(request, "activities/campaigns.html", {
        "form": form, "finance": finance,
        "rows": [(c, selectors.campaign_stats(c) if access.is_finance_center(request.user, c.district_id) else None)
                 for c in items]},
        status=400 if request.method == "POST" else 200)


@_user_page
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(selectors.campaigns(request.user), pk=pk)
    notices_qs = selectors.notices(request.user).filter(campaign=campaign)
    stats = selectors.notice_stats([n.pk for n in notices_qs])
    finance = access.is_finance_center(request.user, campaign.district_id)
    return render(request, "activities/campaign_detail.html", {
        "campaign": campaign, "stats": selectors.campaign_stats(campaign) if finance else None,
        "rows": [(n, stats.get(n.pk)) for n in notices_qs]})


# --- evidence for the self sheet ----------------------------------------------------------------

@_user_page
def evidence_picker(request: HttpRequest, assessment_pk: int, code: str) -> HttpResponse:
    from scoring import services as scoring_services
    from scoring.models import Indicator

    assessment = get_object_or_404(scoring_services.visible_assessments(request.user)
                                   .select_related("institution"), pk=assessment_pk)
    indicator = get_object_or_404(Indicator.objects.select_related("clause__item"),
                                  scheme_id=assessment.scheme_id, code=code[:20])
    if request.method == "POST":
        source = request.POST.get("source", "")
        object_id = request.POST.get("object_id", "")
        if source not in EvidenceSource.values or not object_id.isdigit() or len(object_id) > 12:
            messages.error(request, _("请选择要引用的记录。"))
        else:
            try:
                services.attach_evidence(request.user, assessment, code, source, int(object_id))
            except DomainError as exc:
                return _refused(request, exc, request.path)
            messages.success(request, _("已作为佐证附到自评表。"))
        return redirect(request.path)
    options = selectors.evidence_options(assessment.institution_id, assessment.year, indicator.clause_id,
                                         assessment.pk, code)
    return render(request, "activities/evidence_picker.html", {
        "assessment": assessment, "indicator": indicator, "options": options})


# --- the archive --------------------------------------------------------------------------------

@_user_page
def archives(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    if request.method == "POST":
        try:
            year = parse_year(request.POST.get("year"), year)
            code = request.POST.get("institution", "").strip()
            institution = None
            if code:
                institution = selectors.visible_institutions(request.user).filter(code=code[:32]).first()
                if institution is None:
                    raise NotFound(_("未找到该机构，或您无权访问"))
            job = services.request_archive(request.user, year, institution, request.POST.get("district", ""))
        except DomainError as exc:
            return _refused(request, exc, reverse("activities:archives"))
        messages.success(request, _("已提交生成档案。"))
        return redirect("activities:archive", pk=job.pk)
    finance = access.is_finance_center(request.user)
    return render(request, "activities/archives.html", {  # a finance center types a code (a province: 5,000)
        "year": year, "jobs": selectors.archive_jobs(request.user)[:50],
        "institutions": [] if finance else selectors.visible_institutions(request.user).filter(is_active=True)[:200],
        "finance": finance})


@_user_page
def archive_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(selectors.archive_jobs(request.user), pk=pk)
    if request.GET.get("format") == "json":
        return JsonResponse({"id": job.pk, "status": job.status, "progress": job.progress,
                             "files": job.files_count, "error": job.error})
    return render(request, "activities/archive_detail.html", {"job": job})


@_user_page
def archive_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(selectors.archive_jobs(request.user), pk=pk)
    if job.status != ArchiveStatus.DONE or not job.file:
        raise Http404
    return _serve(job.file, job.file.name.rsplit("/", 1)[-1], "application/zip")


# --- the calendar -------------------------------------------------------------------------------

FEED_SALT = "activities.calendar"


@_user_page
def calendar(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    district = programme_calendar.district_for(request.user, request.GET.get("district", ""))
    if district is None:
        raise Http404
    token = signing.dumps({"u": request.user.pk, "d": district.pk}, salt=FEED_SALT)
    return render(request, "activities/calendar.html", {
        "year": year, "district": district, "events": programme_calendar.events(request.user, district, year),
        "feed_url": request.build_absolute_uri(reverse("activities:calendar-ics", args=[token]))})


def calendar_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The district's programme calendar as iCalendar, for calendar apps (a signed link per user)."""
    from django.contrib.auth import get_user_model

    try:
        data = signing.loads(token[:500], salt=FEED_SALT)
        user = get_user_model().objects.get(pk=int(data["u"]), is_active=True)
    except (signing.BadSignature, KeyError, TypeError, ValueError, get_user_model().DoesNotExist):
        raise Http404 from None
    district = programme_calendar.district_for(user, "", district_id=data.get("d"))
    if district is None or not selectors.may_use(user):
        raise Http404
    year = timezone.localdate().year
    body = programme_calendar.ics(user, district, [year - 1, year, year + 1])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="programme-{district.code}.ics"'
    return response

