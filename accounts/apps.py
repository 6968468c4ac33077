from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    """Logins: employees' accounts created in bulk, the first-login password change, API tokens."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("登录账号")
