"""风险预警 pages: the upload (with a preview and a progress bar), the review queue and an alert,
and the district's summary. Thin: services decide, selectors scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.years import parse_year
from institutions import access
from institutions.models import Institution, Role

from . import rules, selectors, services
from .forms import ScreeningForm, UploadForm
from .models import AlertStatus, Channel, CounterpartyType, Direction, Severity

SUMMARY_PAGE_SIZE = 50  # institutions a page of the district's summary (5,000 in a province)

EVENT_ACTIONS = {"login": gettext_lazy("登录"), "query_customer": gettext_lazy("查询客户"),
                 "modify_limit": gettext_lazy("调整额度"), "override": gettext_lazy("越权操作")}
TRAIL = {"review": gettext_lazy("开始核查"), "dismiss": gettext_lazy("排除"), "confirm": gettext_lazy("确认"),
         "escalate": gettext_lazy("上报"), "assign": gettext_lazy("分派"), "forward": gettext_lazy("转交")}


def _label(choices, value):
    return choices(value).label if value in choices.values else value


def _shown_evidence(evidence: list) -> list[dict]:
    """The evidence with labels instead of codes (pages show labels)."""
    out = []
    for item in evidence:
        item = dict(item)
        if "txn_id" in item:
            item["direction"] = _label(Direction, item.get("direction"))
            item["channel"] = _label(Channel, item.get("channel"))
            item["counterparty_type"] = _label(CounterpartyType, item.get("counterparty_type"))
        else:
            item["action"] = EVENT_ACTIONS.get(item.get("action"), item.get("action"))
        out.append(item)
    return out


def _actor_institution(request) -> Institution:
    ids = services.actor_institution_ids(request.user)
    if not ids:
        raise PermissionDenied(_("只有机构的填报员或负责人可以上传数据和发起筛查。"))
    code = request.POST.get("institution") or request.GET.get("institution")
    institutions = Institution.objects.filter(pk__in=ids).order_by("code")
    return get_object_or_404(institutions, code=code) if code else institutions.first()


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    institution = _actor_institution(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    problems = []
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        try:
            stored = services.load_extract(request.user, institution, form.cleaned_data["kind"], file.read(),
                                           file.name)
        except services.LoadRefused as refused:
            problems = refused.problems
            messages.error(request, str(refused))
        except DomainError as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("已导入 %(rows)s 行%(kind)s。") % {"rows": stored.rows,
                                                                     "kind": stored.get_kind_display()})
            return redirect("risk:upload")
    return render(request, "risk/upload.html", {
        "institution": institution, "form": form, "problems": problems, "screening_form": ScreeningForm(),
        "screening_unavailable": services.screening_unavailable(),
        "uploads": selectors.own_uploads(request.user).filter(institution=institution)[:10],
        "screenings": selectors.own_screenings(request.user).filter(institution=institution)[:10],
        "columns": rules.COLUMNS, "rules": [(r, services.effective_rules(institution.pk)[r.code])
                                            for r in rules.RULES.values()]})


@require_POST
@login_required
def screen(request: HttpRequest) -> HttpResponse:
    institution = _actor_institution(request)
    form = ScreeningForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写正确的起止日期。"))
        return redirect("risk:upload")
    try:
        screening = services.request_screening(request.user, institution, form.cleaned_data["date_from"],
                                               form.cleaned_data["date_to"])
    except DomainError as refusal:
        messages.error(request, str(refusal))
        return redirect("risk:upload")
    messages.success(request, _("筛查已发起（%(status)s）：新增 %(new)s 条预警，命中 %(total)s 条。") % {
        "status": screening.get_status_display(), "new": screening.alerts_created, "total": screening.alerts_total})
    return redirect("risk:queue")


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    qs = selectors.visible_alerts(request.user).order_by("due_on", "-pk")
    rule = request.GET.get("rule", "")
    status = request.GET.get("status", "")
    if rule in rules.RULES:
        qs = qs.filter(rule=rule)
    if status in AlertStatus.values:
        qs = qs.filter(status=status)
    if request.GET.get("overdue"):
        qs = qs.filter(status__in=services.OPEN_STATUSES, due_on__lt=timezone.localdate())
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = [(a, rules.RULES[a.rule].title, selectors.is_overdue(a, today)) for a in page]
    return render(request, "risk/queue.html", {
        "page": page, "rows": rows, "rule": rule, "status": status, "rule_choices": list(rules.RULES.values()),
        "status_choices": AlertStatus.choices, "is_actor": bool(services.actor_institution_ids(request.user)),
        "overdue_only": bool(request.GET.get("overdue"))})


@login_required
def alert(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(selectors.visible_alerts(request.user), pk=pk)
    actor = item.institution_id in services.actor_institution_ids(request.user)
    allowed = [verb for verb, t in services.TRANSITIONS.items() if item.status in t.sources] if actor else []
    return render(request, "risk/alert.html", {
        "alert": item, "rule": rules.RULES[item.rule], "allowed": allowed, "actor": actor,
        "overdue": selectors.is_overdue(item), "severity": Severity(item.severity).label,
        "actions": [(a, TRAIL.get(a.action, a.action)) for a in item.actions.select_related("actor")],
        "evidence": _shown_evidence(item.evidence),
        "may_forward": item.status == AlertStatus.ESCALATED and not item.forwarded_to
        and access.is_finance_center(request.user, item.institution.district_id),
        "is_txn": bool(item.evidence) and "txn_id" in item.evidence[0]})


VERB_LABELS = {"review": gettext_lazy("开始核查"), "dismiss": gettext_lazy("排除"), "confirm": gettext_lazy("确认"),
               "escalate": gettext_lazy("上报区金融工作中心"), "forward": gettext_lazy("转交")}


@require_POST
@login_required
def alert_action(request: HttpRequest, pk: int, verb: str) -> HttpResponse:
    item = get_object_or_404(selectors.visible_alerts(request.user), pk=pk)
    note = request.POST.get("note", "")
    try:
        if verb == "forward":
            services.forward(request.user, item, request.POST.get("to", ""), note)
        else:
            services.act(request.user, item, verb, note, violation_code=request.POST.get("violation_code", "").strip())
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("已%(verb)s。") % {"verb": VERB_LABELS.get(verb, verb)})
    return redirect("risk:alert", pk=pk)


@login_required
def summary(request: HttpRequest) -> HttpResponse:
    if not access.is_finance_center(request.user):
        raise PermissionDenied(_("只有区金融工作中心可以查看全区风险预警统计。"))
    try:
        district = access.resolve_district(request.user, request.GET.get("district"), roles=[Role.FINANCE_CENTER])
        year = parse_year(request.GET.get("year"), timezone.localdate().year)
    except DomainError as refusal:
        if refusal.status == 404:
            raise
        return render(request, "risk/summary.html", {"choose": access.visible_districts(
            request.user, roles=[Role.FINANCE_CENTER]), "error": str(refusal)}, status=400)
    page = Paginator(selectors.summary_institutions(district), SUMMARY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "risk/summary.html", {
        "district": district, "year": year, "page": page,
        "rows": selectors.summary(district, year, page.object_list),
        "rule_choices": list(rules.RULES.values()), "status_choices": AlertStatus.choices,
        "totals": selectors.district_totals(district, year)})
