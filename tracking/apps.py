from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tracking"
    verbose_name = _("督办事项")

    def ready(self) -> None:
        from core import portal
        from institutions import access

        from . import selectors

        def tracks(user) -> bool:
            return bool(access.is_superuser(user) or access.district_ids(user, *selectors.VIEWER_ROLES)
                        or access.member_institution_ids(user, *selectors.MEMBER_ROLES))

        portal.register("tracking:items", _("全部督办事项"), visible=tracks, order=47)
