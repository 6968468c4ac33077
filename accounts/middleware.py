"""First-login password change for accounts created in bulk (see services.py).

Checked once, when a login succeeds: the answer is kept in the session, so ordinary requests cost
no query. Until the temporary password is changed every page redirects to the change form and
the session-authenticated API answers 403.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import services

# The name it had when this lived in warnings_feed: sessions opened before the move keep their obligation.
SESSION_KEY = "_warnings_feed_must_change_password"
LOGIN_PATHS = ("/admin/login/",)


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.session.get(SESSION_KEY) and not self._exempt(request.path):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("首次登录请先修改初始密码。")}, status=403)
            return redirect(self._change_url(request.get_full_path()))
        response = self.get_response(request)
        if self._is_successful_login(request, response) and services.password_change_required(request.user):
            request.session[SESSION_KEY] = True
            return redirect(self._change_url(response.get("Location", "")))
        return response

    @staticmethod
    def _change_url(next_url: str) -> str:
        url = reverse("accounts:first_password")
        if next_url and url_has_allowed_host_and_scheme(next_url, allowed_hosts=None):
            url += "?" + urlencode({"next": next_url})
        return url

    @staticmethod
    def _exempt(path: str) -> bool:
        allowed = (reverse("accounts:first_password"), reverse("logout"), "/admin/logout/")
        return path in allowed or path.startswith((settings.STATIC_URL, "/i18n/"))

    @staticmethod
    def _is_successful_login(request: HttpRequest, response: HttpResponse) -> bool:
        return (
            request.method == "POST"
            and response.status_code == 302
            and request.path in (resolve_url(settings.LOGIN_URL), *LOGIN_PATHS)
            and request.user.is_authenticated
        )
