"""The mail outbox and the tasks waiting for the broker in the admin: read-only, for the installation
administrator only (mail bodies and task arguments may hold personal data, of every district)."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import outbox, queue
from .errors import Unavailable
from .models import OutgoingMail, QueuedTask


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "subject", "recipient_count", "status", "attempts", "not_before",
                    "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("=key", "subject")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    fields = ("key", "kind", "status", "recipients", "subject", "body", "created_at", "not_before", "sent_at",
              "attempts", "last_error")
    readonly_fields = fields
    show_full_result_count = False

    # Whatever model permissions a group may carry: the superuser only.
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("收件人数"))
    def recipient_count(self, obj):
        return len(obj.recipients)

    @admin.action(description=_("立即重试所选邮件"), permissions=["retry"])
    def retry_now(self, request, queryset):
        count = outbox.retry_now(queryset)
        self.message_user(request, gettext("%(n)d 封邮件将立即重试（已发送的不会重发）。") % {"n": count},
                          messages.SUCCESS)


@admin.register(QueuedTask)
class QueuedTaskAdmin(admin.ModelAdmin):
    """Tasks waiting for the broker (core.queue): the administrator sees what waits and why, and can
    publish a selection now instead of waiting for the drain (refused while the broker is down)."""

    list_display = ("created_at", "task_name", "attempts", "short_error")
    list_filter = ("task_name",)
    date_hierarchy = "created_at"
    actions = ["publish_now"]
    fields = ("task_name", "args", "kwargs", "created_at", "attempts", "last_error")
    readonly_fields = fields
    show_full_result_count = False

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_publish_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("最近错误"))
    def short_error(self, obj):
        return (obj.last_error or "")[:80]

    @admin.action(description=_("立即投递所选任务"), permissions=["publish"])
    def publish_now(self, request, queryset):
        try:
            count = queue.publish_stored_now(list(queryset))
        except Unavailable as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, gettext("已投递 %(n)d 个任务。") % {"n": count}, messages.SUCCESS)
