"""Rate limits of the public (no login) read endpoints: the public warnings and the blacklist.

Counted per client address in Django's cache (Redis in production), at the rate
PUBLIC_READ_RATE. The complaint intake and tracking have their own, stricter limits
(complaints/throttle.py).
"""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class PublicReadThrottle(SimpleRateThrottle):
    scope = "public_read"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
