"""The answer to a locked-out login (django-axes' AXES_LOCKOUT_CALLABLE), in Chinese.

Axes locks a username at one address (AXES_LOCKOUT_PARAMETERS) after AXES_FAILURE_LIMIT wrong
passwords, for AXES_COOLOFF_TIME. The login page then shows `lockout.html` (429); the API's token
endpoint answers `{"detail": ...}` with the same status (accounts/api/views.py asks `locked_out`).
An administrator lifts a lockout early by deleting the access attempt in the admin (Axes › access
attempts) or with `manage.py axes_reset_username`.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core import ratelimits


def client_ip(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address the rate limits use (COMPLAINTS_CLIENT_IP_HEADER behind
    a proxy, else REMOTE_ADDR), never a header the client sets; None when there is no valid one
    (axes stores addresses in an inet column)."""
    value = ratelimits.client_ip(request)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def cooloff_minutes() -> int:
    return max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))


def lockout_message() -> str:
    return _("登录失败次数过多，该账号在您当前的网络地址已被暂时锁定 %(minutes)d 分钟。"
             "请稍后再试，或联系系统管理员解锁。") % {"minutes": cooloff_minutes()}


def locked_out(request) -> bool:
    """Whether the authentication of this request was refused because of a lockout (axes marks the
    request it was given: a DRF request on the API, the Django request on pages)."""
    return bool(getattr(request, "axes_locked_out", False)
                or getattr(getattr(request, "_request", None), "axes_locked_out", False))


def json_response() -> JsonResponse:
    response = JsonResponse({"detail": lockout_message()}, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_response()
    response = render(request, "accounts/lockout.html", {"message": lockout_message()},
                      status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(cooloff_minutes() * 60)
    return response
