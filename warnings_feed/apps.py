from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WarningsFeedConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "warnings_feed"
    verbose_name = _("警示信息")

    def ready(self) -> None:
        from core import portal
        from institutions import access

        def is_employee(user) -> bool:
            return getattr(user, "employee", None) is not None

        def publishes(user) -> bool:
            return access.is_finance_center(user) or "institution_head" in access.user_roles(user)

        portal.register("warnings_feed:feed", _("警示信息"), visible=is_employee, order=30)
        portal.register("warnings_feed:manage", _("发布与管理警示信息"), visible=publishes, order=50)
        # The role home's to-do counts (core.portal.register_todo).
        from . import todos

        todos.register()
