"""Who a public visitor is for rate limits, and the limit of the public (no login) read pages.

Every public limit of the portal (complaint intake and tracking, public warnings, the blacklist API)
counts visitors by the same address: REMOTE_ADDR, or behind a reverse proxy the header it sets
(COMPLAINTS_CLIENT_IP_HEADER, e.g. HTTP_X_REAL_IP; for X-Forwarded-For the last entry, the one our
own proxy appended). A header the visitor sends cannot open a new allowance.
"""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited


def client_ip(request) -> str:
    header = getattr(settings, "COMPLAINTS_CLIENT_IP_HEADER", "")
    value = request.META.get(header, "") if header else ""
    if value:
        return value.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _client_key(group, request) -> str:
    return client_ip(request)


def public_read_limited(view):
    """Public read pages: at most PUBLIC_READ_RATE requests per visitor, then a friendly 429 page."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        rate = getattr(settings, "PUBLIC_READ_RATE", "")
        if rate and is_ratelimited(request, group="public-read", key=_client_key, rate=rate, increment=True):
            return render(request, "complaints/public/429.html", status=429)
        return view(request, *args, **kwargs)

    return wrapped
