"""The mail outbox in the admin: read-only, for the installation administrator only (mail bodies may
hold personal data, and mails of every district are here)."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import outbox
from .models import OutgoingMail


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
