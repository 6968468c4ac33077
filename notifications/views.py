"""「消息与推送」: a user's own channels, the institution's robots and duty phone (its heads), the
questionnaire push (its filers and heads) and the delivery status of the institution's messages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from institutions import access
from institutions.models import District, Institution, Role

from . import rules, selectors, services
from .models import Channel, Preference

UPLOAD_LIMIT = 5 * 1024 * 1024


def _headed(user):
    return Institution.objects.filter(pk__in=access.headed_institution_ids(user)).order_by("code")


def _pushers(user):
    ids = access.member_institution_ids(user, "institution_filer", "institution_head")
    return Institution.objects.filter(pk__in=ids).order_by("code")


def _centers(user):
    """The districts whose finance center the user is (granted: the administrator edits every district's
    channels in the admin, not on this page)."""
    ids = access.district_ids(user, Role.FINANCE_CENTER)
    if not ids:
        return District.objects.none()
    return District.objects.filter(pk__in=ids).order_by("code")


def _overview(request, status: int = 200):
    enabled = services.enabled_channels()
    headed = list(_headed(request.user))
    institution_ids = [i.pk for i in _pushers(request.user)]
    preferences = {p.institution_id: p for p in Preference.objects.filter(institution__in=headed)}
    centers = list(_centers(request.user))
    own = selectors.district_channels([d.pk for d in centers])
    return render(request, "notifications/overview.html", {
        "channels": [(c, Channel(c).label) for c in enabled if c in rules.PREFERENCE_CHANNELS],
        "mine": Preference.objects.filter(user=request.user).first(),
        "headed": [(i, preferences.get(i.pk)) for i in headed],
        "centers": [(d, own.get(d.pk)) for d in centers],
        "installation_robots": bool(services.district_targets("")),
        "pushers": _pushers(request.user),
        "pushes": selectors.push_lists(institution_ids),
        "recent": selectors.recent_messages(institution_ids),
    }, status=status)


@login_required
def overview(request):
    return _overview(request)


@login_required
@require_POST
def save_district(request, code: str):
    """The district's finance center's own robots (duty phone, mailbox). Another district's: 404; a bad
    field: the page again with the reason, 400, nothing stored."""
    district = District.objects.filter(code=code).first()
    if district is None or not access.is_finance_center(request.user, district):
        raise Http404(_("未找到该区县"))
    try:
        services.save_district_channels(
            district, request.user, dingtalk_webhook=request.POST.get("dingtalk_webhook", ""),
            dingtalk_secret=request.POST.get("dingtalk_secret", ""),
            wecom_webhook=request.POST.get("wecom_webhook", ""), phone=request.POST.get("phone", ""),
            email=request.POST.get("email", ""))
    except DomainError as exc:
        messages.error(request, _("{name}金融工作中心的接收渠道未保存：{error}").format(name=district.name, error=exc))
        return _overview(request, status=400)
    messages.success(request, _("{name}金融工作中心的接收渠道已保存。").format(name=district.name))
    return redirect("notifications:overview")


def _channels(request) -> list[str]:
    return [c for c in request.POST.getlist("channels") if c in rules.PREFERENCE_CHANNELS]


@login_required
@require_POST
def save_mine(request):
    try:
        services.save_preference(user=request.user, channels=_channels(request),
                                 phone=request.POST.get("phone", "").strip(),
                                 email=request.POST.get("email", "").strip()[:254])
        messages.success(request, _("您的接收方式已保存。"))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("notifications:overview")


@login_required
@require_POST
def save_institution(request, code: str):
    institution = _headed(request.user).filter(code=code).first()
    if institution is None:
        raise Http404(_("未找到该机构"))
    current = Preference.objects.filter(institution=institution).first()
    secret = request.POST.get("dingtalk_secret", "").strip()
    fields = {"channels": _channels(request), "phone": request.POST.get("phone", "").strip(),
              "email": request.POST.get("email", "").strip()[:254],
              "dingtalk_webhook": request.POST.get("dingtalk_webhook", "").strip(),
              "dingtalk_secret": secret or (current.dingtalk_secret if current else ""),
              "wecom_webhook": request.POST.get("wecom_webhook", "").strip(),
              # The WeCom app (questionnaire push): the secret, like DingTalk's, is never shown again.
              "wecom_corp_id": request.POST.get("wecom_corp_id", "").strip()[:64],
              "wecom_agent_id": request.POST.get("wecom_agent_id", "").strip()[:20],
              "wecom_app_secret": (request.POST.get("wecom_app_secret", "").strip()[:200]
                                   or (current.wecom_app_secret if current else ""))}
    for key in ("dingtalk_webhook", "wecom_webhook"):
        if fields[key] and not fields[key].startswith("https://"):
            messages.error(request, _("机器人地址须以 https:// 开头。"))
            return redirect("notifications:overview")
    try:
        services.save_preference(institution=institution, **fields)
        messages.success(request, _("{name}的接收方式已保存。").format(name=institution.name))
    except DomainError as exc:
        messages.error(request, str(exc))
    return redirect("notifications:overview")


@login_required
@require_POST
def upload_push_list(request):
    institution = _pushers(request.user).filter(code=request.POST.get("institution", "")).first()
    if institution is None:
        raise Http404(_("未找到该机构"))
    upload = request.FILES.get("file")
    if upload is None or upload.size > UPLOAD_LIMIT:
        messages.error(request, _("请选择名单文件（CSV 或 Excel，不超过 5 MB，含“手机号”列）。"))
        return redirect("notifications:overview")
    try:
        push = services.store_push_list(institution, upload.read(), upload.name, request.user,
                                        label=request.POST.get("label", ""),
                                        channel=request.POST.get("channel", "sms") or "sms")
    except DomainError as exc:
        messages.error(request, _("名单未导入：{error}").format(error=exc))
        return redirect("notifications:overview")
    if push.channel == "wecom_app":
        messages.success(request, _("已收到 {n} 人的名单，问卷链接将通过企业微信发送，名单发送后即清除。").format(
            n=push.count))
    else:
        messages.success(request, _("已收到 {n} 人的名单，问卷链接将通过短信发送，名单发送后即清除。").format(
            n=push.count))
    return redirect("notifications:overview")
