"""A password "validator" that validates nothing: Django calls every validator's `password_changed`
hook after `User.save()` stores a new password (`set_password` then `save`), whatever changed it —
the first-login page, the users' admin, `manage.py changepassword`, a script. It revokes the account's
API tokens there, so no path that changes a password leaves an old token working."""

from __future__ import annotations


class RevokeApiTokensOnPasswordChange:
    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk:
            from .services import revoke_api_tokens

            revoke_api_tokens(user)

    def get_help_text(self) -> str:
        return ""
