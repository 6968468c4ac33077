"""The outbox of messages (superuser only: recipients are phone numbers and robot addresses) and the
preferences (superuser: they hold robot secrets)."""

from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import rules, services
from .models import Message, Preference


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


@admin.register(Message)
class MessageAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("created_at", "kind", "channel", "shown_recipient", "status", "attempts", "not_before",
                    "sent_at", "deferred", "last_error")
    list_filter = ("status", "channel", "kind")
    search_fields = ("=key", "subject")
    date_hierarchy = "created_at"
    actions = ["retry_now"]
    fields = ("key", "kind", "channel", "shown_recipient", "recipient_label", "status", "subject", "body",
              "created_at", "not_before", "sent_at", "attempts", "deferred", "last_error")
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("接收方"))
    def shown_recipient(self, obj):
        return rules.mask_recipient(obj.channel, obj.recipient)

    @admin.action(description=_("立即重试所选消息"), permissions=["retry"])
    def retry_now(self, request, queryset):
        count = services.retry_now(queryset)
        self.message_user(request, gettext("%(n)d 条消息将立即重试（已发送的不会重发）。") % {"n": count},
                          messages.SUCCESS)


@admin.register(Preference)
class PreferenceAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("__str__", "channels", "updated_at")
    search_fields = ("institution__name", "institution__code", "user__username")
    autocomplete_fields = ()
    raw_id_fields = ("institution", "user")

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
