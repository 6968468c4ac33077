"""API token authentication that also enforces the first-login password change.

Accounts created in bulk get a temporary password (services.py). The session side is guarded by
PasswordChangeRequiredMiddleware; token requests authenticate inside DRF, after the middleware, so
the same rule is applied here: such an account gets 403 until the password is changed on the web.
The obligation is read with the token in one query (select_related), so a token request costs no
extra query.

Tokens expire API_TOKEN_TTL_DAYS after they were issued (DRF's Token.created): an older one is
refused with 401 and a message saying to fetch a new one from the token endpoint, which then issues
a fresh token. A password change revokes them all (services.revoke_api_tokens).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

MUST_CHANGE_PASSWORD = _("首次登录请先在网页上修改初始密码。")
TOKEN_EXPIRED = _("API 令牌已过期，请重新获取（POST /api/v1/auth/token/）。")


def token_expired(token) -> bool:
    return token.created < timezone.now() - timedelta(days=settings.API_TOKEN_TTL_DAYS)


def must_change_password(user) -> bool:
    # The reverse one-to-one is absent (not None) when no obligation exists; select_related caches both.
    return hasattr(user, "password_change_required")


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user", "user__password_change_required").get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token_expired(token):
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED)
        if must_change_password(token.user):
            raise exceptions.PermissionDenied(MUST_CHANGE_PASSWORD)
        return token.user, token
