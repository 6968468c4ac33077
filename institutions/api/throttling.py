"""Rate limits of the public (no login) read endpoints: the public warnings and the blacklist.

Counted per client address (institutions.ratelimits.client_ip, the same as every public limit) in
Django's cache (Redis in production), at the rate PUBLIC_READ_RATE. The complaint intake and
tracking have their own, stricter limits (complaints/throttle.py).
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from ..ratelimits import client_ip


class PublicReadThrottle(SimpleRateThrottle):
    scope = "public_read"

    def get_rate(self) -> str | None:
        # The setting is read at each request (DRF would read its own copy once, at import).
        return self.THROTTLE_RATES.get(self.scope) or getattr(settings, "PUBLIC_READ_RATE", "") or None

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}
