from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "complaints"
    verbose_name = _("一码举报")

    def ready(self) -> None:
        from core import audit, export_jobs, portal
        from institutions import access
        from tracking import services as tracking

        from . import exports, posters, selectors, services

        export_jobs.register(exports.STATS_KIND, exports.statistics_export, back_url="complaints:stats")
        export_jobs.register(posters.POSTERS_KIND, posters.posters_export, back_url="complaints:queue")

        def handles_cases(user) -> bool:
            return selectors.can_use_queue(user)

        def institution_staff(user) -> bool:
            return bool(access.user_roles(user) & {"institution_head", "institution_filer"})

        portal.register("complaints:queue", _("投诉举报处理"), visible=handles_cases, order=80)
        portal.register("complaints:survey-links", _("满意度问卷链接"), visible=institution_staff, order=90)
        portal.register("complaints:disclosure", _("黑名单公开设置"), visible=access.is_finance_center, order=95)
        # The role home's to-do counts (core.portal.register_todo).
        from . import todos

        todos.register()
        # 交办: the case follows its tracked item (the institution's reply, accepted or returned).
        tracking.listen("complaints", services.on_tracked_item)
        # The SMS to a named complainant, finally sent or failed, goes in the case's log.
        from notifications import services as notifications
        from notifications.complainants import KEY_PREFIX

        notifications.listen(KEY_PREFIX, services.on_complainant_notice)
        # Identity and sealed-original reveals are audit rows: kept for core's retention period.
        audit.register("complaints.PiiReveal", "at")
