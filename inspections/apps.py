from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "inspections"
    verbose_name = _("督查与整改")

    def ready(self) -> None:
        from core import portal
        from institutions import access
        from tracking import services as tracking

        from . import services

        tracking.listen(services.SOURCE_APP, services.on_item_change)

        def inspects(user) -> bool:
            return bool(access.is_superuser(user) or access.district_ids(user, "finance_center", "inspector"))

        def rectifies(user) -> bool:
            return bool(access.member_institution_ids(user, "institution_filer", "institution_head"))

        portal.register("inspections:visits", _("督查检查"), visible=inspects, order=45)
        portal.register("inspections:rectifications", _("整改督办"), visible=lambda u: inspects(u) or rectifies(u),
                        order=46)
