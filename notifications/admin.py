"""The outbox of messages (superuser only: recipients are phone numbers and robot addresses) and the
preferences (superuser: they hold robot secrets)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import rules, services
from .models import DistrictChannels, Message, Preference


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


class DistrictChannelsForm(forms.ModelForm):
    """The DingTalk secret is write-only: never shown again, blank keeps the stored one; the addresses
    checked like on 消息与推送."""

    dingtalk_secret = forms.CharField(label=_("钉钉加签密钥"), required=False, max_length=200, strip=True,
                                      widget=forms.PasswordInput(render_value=False),
                                      help_text=_("留空不变；删除钉钉群机器人地址时一并清除"))

    # Checked by rules.webhook_problem (https, or a local gateway), not by Django's URL field.
    dingtalk_webhook = forms.CharField(label=_("钉钉群机器人地址"), required=False, max_length=500)
    wecom_webhook = forms.CharField(label=_("企业微信群机器人地址"), required=False, max_length=500)

    class Meta:
        model = DistrictChannels
        fields = ("district", "dingtalk_webhook", "dingtalk_secret", "wecom_webhook", "phone", "email")

    def clean(self):
        data = super().clean()
        for field in ("dingtalk_webhook", "wecom_webhook"):
            problem = rules.webhook_problem(data.get(field) or "")
            if problem:
                self.add_error(field, problem)
        phone = data.get("phone") or ""
        if phone and not rules.PHONE.match(phone):
            self.add_error("phone", gettext("手机号格式不正确"))
        secret = data.get("dingtalk_secret") or ""
        if not data.get("dingtalk_webhook"):
            data["dingtalk_secret"] = ""
        elif not secret and self.instance.pk:
            data["dingtalk_secret"] = DistrictChannels.objects.get(pk=self.instance.pk).dingtalk_secret
        return data


@admin.register(DistrictChannels)
class DistrictChannelsAdmin(SuperuserOnly, admin.ModelAdmin):
    form = DistrictChannelsForm
    list_display = ("district", "has_dingtalk", "has_wecom", "updated_at", "updated_by")
    search_fields = ("district__name", "district__code")
    raw_id_fields = ("district",)

    @admin.display(description=_("钉钉"), boolean=True)
    def has_dingtalk(self, obj):
        return bool(obj.dingtalk_webhook)

    @admin.display(description=_("企业微信"), boolean=True)
    def has_wecom(self, obj):
        return bool(obj.wecom_webhook)

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)

    def has_add_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
