from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import access


@login_required
def home(request):
    """Landing page: what the signed-in user can do, by role."""
    return render(request, "home.html", {
        "roles": access.user_roles(request.user),
        "institution": access.primary_institution(request.user),
        "is_finance_center": access.is_finance_center(request.user),
        "portal_links": portal_links(request.user),
    })


def portal_links(user) -> list[dict]:
    """The portal's sections this user can use, by role."""
    roles = access.user_roles(user)
    links = []
    if access.is_finance_center(user) or roles & {"inspector", "third_party", "institution_filer", "institution_head"}:
        links.append({"url": reverse("scoring:home"), "label": _("清廉积分测评")})
    if hasattr(user, "employee") and user.employee is not None:
        links.append({"url": reverse("warnings_feed:feed"), "label": _("警示信息")})
        links.append({"url": reverse("scoring:my-portrait"), "label": _("我的清廉画像")})
    if access.is_finance_center(user) or "institution_head" in roles:
        links.append({"url": reverse("warnings_feed:manage"), "label": _("发布与管理警示信息")})
    if "institution_head" in roles or "institution_filer" in roles:
        links.append({"url": reverse("scoring:staff-points"), "label": _("员工清廉积分")})
    if access.is_finance_center(user) or "institution_head" in roles or "institution_filer" in roles:
        links.append({"url": reverse("scoring:blacklist"), "label": _("黑名单")})
    if access.is_finance_center(user) or roles & {"discipline", "institution_head"}:
        links.append({"url": reverse("complaints:queue"), "label": _("投诉举报处理")})
    if roles & {"institution_head", "institution_filer"}:
        links.append({"url": reverse("complaints:survey-links"), "label": _("满意度问卷链接")})
    if access.is_finance_center(user) or roles & {"institution_head", "city"}:
        links.insert(0, {"url": reverse("dashboards:index"), "label": _("数据看板")})
    return links


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
