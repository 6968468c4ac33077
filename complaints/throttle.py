"""The complaint intake's and tracking's limits (which counters, at which rates), counted by the
portal's one rate limiter (core/ratelimits.py). The rates are read at each request."""

from __future__ import annotations

from django.conf import settings

from core.ratelimits import client_ip, over_limit


def submission_limited(request, code: str) -> bool:
    # Both counters advance on every attempt, so neither can be dodged by tripping the other first.
    return over_limit(request, [
        ("complaints.submit-ip", settings.COMPLAINTS_RATE_SUBMIT_IP, client_ip(request)),
        ("complaints.submit-code", settings.COMPLAINTS_RATE_SUBMIT_CODE, code or "-"),
    ])


def tracking_limited(request) -> bool:
    return over_limit(request, [("complaints.track-ip", settings.COMPLAINTS_RATE_TRACK_IP, client_ip(request))])
