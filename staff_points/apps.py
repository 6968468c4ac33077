from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffPointsConfig(AppConfig):
    """Employees' clean points (员工清廉积分): records, the blacklist, portraits and exemplars."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "staff_points"
    verbose_name = _("员工清廉积分")

    def ready(self) -> None:
        from core import portal
        from institutions import access

        def is_employee(user) -> bool:
            return getattr(user, "employee", None) is not None

        def institution_staff(user) -> bool:
            return bool(access.user_roles(user) & {"institution_head", "institution_filer"})

        def sees_blacklist(user) -> bool:
            return access.is_finance_center(user) or institution_staff(user)

        portal.register("staff_points:my-portrait", _("我的清廉画像"), visible=is_employee, order=40)
        portal.register("staff_points:staff-points", _("员工清廉积分"), visible=institution_staff, order=60)
        portal.register("staff_points:blacklist", _("黑名单"), visible=sees_blacklist, order=70)
