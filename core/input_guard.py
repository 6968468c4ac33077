"""A request-level guard: a NUL byte or another control character in the path, the query string (keys
and values) or a form field is refused with a 400 before any view, query or template sees it (PostgreSQL
refuses NUL in text and a view would answer 500). Tab, CR and LF are allowed in form fields (a textarea
holds line breaks), never in the path or the query string.

The API (`/api/...`) answers JSON `{"detail": ...}` as its exception handler does; pages answer the
Chinese "请求有误" page (core/refused.html). Placed first in MIDDLEWARE.
"""

from __future__ import annotations

import re

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

# C0 controls, DEL and C1 controls (Unicode category Cc).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same without tab, LF and CR: what a form field (a textarea) may not hold.
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def has_control(value: str, *, text: bool = False) -> bool:
    """Whether `value` holds a control character; `text=True` allows tab, CR and LF."""
    return bool((CONTROL_IN_TEXT if text else CONTROL).search(value))


def _where(kind: str, name: str) -> str:
    return f"{kind}「{name}」" if name and not has_control(name) else kind


def _offending_part(request) -> str | None:
    """What part of the request holds a control character, in words, or None."""
    if has_control(request.path_info):
        return _("地址")
    for key, values in request.GET.lists():
        if has_control(key) or any(has_control(v) for v in values):
            return _where(_("查询参数"), key)
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in FORM_TYPES:
        for key, values in request.POST.lists():
            if has_control(key, text=True) or any(has_control(v, text=True) for v in values):
                return _where(_("表单字段"), key)
    return None


def refuse(request, message: str, status: int = 400):
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "core/refused.html", {"message": message, "status": status}, status=status)


class ControlCharacterGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            part = _offending_part(request)
        except RequestDataTooBig:
            return refuse(request, _("提交的内容过大。"), status=413)
        except MultiPartParserError:
            return refuse(request, _("提交的表单格式有误，无法读取。"))
        if part:
            return refuse(request, _("{part}中含有不允许的控制字符（如 NUL），请删除后重试。").format(part=part))
        return self.get_response(request)
