from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The project level, listed last: what composes every app (seed_demo). No models; it may import
    any app, and no app imports it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
    verbose_name = _("平台")

    def ready(self) -> None:
        # TODO(scoring): this belongs in ScoringConfig.ready(), like every other app's sections; kept
        # here until scoring/apps.py registers it, after which this method goes.
        from core import portal
        from institutions import access

        def scores(user) -> bool:
            return access.is_finance_center(user) or bool(access.user_roles(user) & {
                "inspector", "third_party", "institution_filer", "institution_head"})

        portal.register("scoring:home", _("清廉积分测评"), visible=scores, order=20)
        # The role home's to-do counts of apps that do not register their own (portal/todos.py).
        from . import todos

        todos.register()
