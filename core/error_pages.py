"""The error pages in the user's language (Chinese first), with the reason and a way back, under
DEBUG=False as well: config/urls.py names these as handler400/403/404/500, settings names
`csrf_failure` as CSRF_FAILURE_VIEW. The refusals a service raises (core.errors) reach the same
templates through core.middleware.DomainErrorMiddleware; 413 and 429 use templates/core/refused.html
and core/429.html, which extend the same layout (templates/_error.html)."""

from __future__ import annotations

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def reason_of(exception, default: str) -> str:
    """The exception's own message when it is one written for people (the services' and views'
    Chinese reasons, translated), else `default`: never Django's English internals ("No Assessment
    matches the given query.") or a class name."""
    message = exception.args[0] if exception is not None and getattr(exception, "args", None) else None
    if isinstance(message, str) and message.strip() and not message.isascii():
        return message
    return default


def _page(request, template: str, status: int, reason: str):
    return render(request, template, {"reason": reason, "status": status}, status=status)


def bad_request(request, exception=None):
    return _page(request, "400.html", 400, reason_of(exception, _("请求的格式有误，无法处理。")))


def permission_denied(request, exception=None):
    return _page(request, "403.html", 403, reason_of(exception, _("您的账号没有执行此操作的权限。")))


def page_not_found(request, exception=None):
    return _page(request, "404.html", 404, reason_of(exception, _("页面不存在，或您无权查看。")))


def server_error(request):
    # No request context: the failure may be the database the session and the user need.
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({}))


def csrf_failure(request, reason: str = ""):
    return _page(request, "403.html", 403,
                 _("页面已过期或来自其他网站，表单未提交。请返回上一页、刷新后再试。"))
