"""Messages to people through the channels they read (短信, 浙政钉/钉钉, 企业微信, e-mail): one outbox of
messages with retries and delivery status, and who wants what where (preferences).

E-mail keeps going through `core.outbox` (a message on the e-mail channel hands its text to it); the
others are sent by `notifications.services.send_due` to the gateways named in settings."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from institutions.models import Institution


class Channel(models.TextChoices):
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")
    DINGTALK = "dingtalk", _("浙政钉（钉钉）群机器人")
    WECOM = "wecom", _("企业微信群机器人")
    # A WeCom self-built app's message to one person (by their WeCom account): the questionnaire push.
    WECOM_APP = "wecom_app", _("企业微信应用消息")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Message(models.Model):
    """One message to one recipient on one channel. Written in the transaction of the change it
    reports (exists iff that change committed); `key` (per channel and recipient) makes it idempotent."""

    Channel = Channel
    Status = MessageStatus

    key = models.CharField(_("去重键"), max_length=320)
    kind = models.CharField(_("类别"), max_length=60, help_text=_("发出该消息的应用和用途，例如 warnings_feed.arrived"))
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("接收方"), max_length=500,
                                 help_text=_("手机号、邮箱或机器人地址（机器人地址只存于此，不在页面显示）"))
    recipient_label = models.CharField(_("接收方名称"), max_length=200, blank=True)
    secret = models.CharField(_("机器人签名密钥"), max_length=200, blank=True)
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(_("标题"), max_length=255)
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=8, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    not_before = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    deferred = models.CharField(_("延后原因"), max_length=100, blank=True,
                                help_text=_("免打扰时段或频率限制时的说明"))
    attachments = models.JSONField(_("附件"), default=list, blank=True,
                                   help_text=_("仅邮件：文件名、类型和内容（发送完成或最终失败后清除内容，保留文件名）"))
    ephemeral = models.BooleanField(_("发后清除"), default=False,
                                    help_text=_("发送完成（或最终失败）后清除接收方号码和内容，例如一次性问卷链接"))

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["not_before", "id"], condition=Q(status="pending"), name="message_pending"),
            models.Index(fields=["kind", "status"], name="message_kind_status"),
            models.Index(fields=["channel", "recipient", "sent_at"], name="message_recipient_sent"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "recipient"], name="message_unique_key"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="message_channel_valid"),
            models.CheckConstraint(condition=Q(status__in=MessageStatus.values), name="message_status_valid"),
            models.CheckConstraint(condition=~Q(body=""), name="message_body_not_blank"),
            models.CheckConstraint(condition=Q(status="sent", sent_at__isnull=False)
                                   | (~Q(status="sent") & Q(sent_at__isnull=True)), name="message_sent_iff_sent_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.subject}"


class Preference(models.Model):
    """Where an institution (its robots, its duty phone) or a user (their phone) wants messages.

    Exactly one of institution and user. `channels` lists the channels wanted (empty: the
    installation's NOTIFY_DEFAULT_CHANNELS); `kinds_off` the message kinds not wanted."""

    institution = models.OneToOneField(Institution, verbose_name=_("机构"), null=True, blank=True,
                                       on_delete=models.CASCADE, related_name="notification_preference")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("用户"), null=True, blank=True,
                                on_delete=models.CASCADE, related_name="notification_preference")
    channels = models.JSONField(_("接收渠道"), default=list, blank=True,
                                help_text=_("email / sms / dingtalk / wecom，留空按系统默认"))
    kinds_off = models.JSONField(_("不接收的消息类别"), default=list, blank=True)
    phone = models.CharField(_("接收短信的手机号"), max_length=20, blank=True)
    email = models.EmailField(_("接收邮件的地址"), blank=True)
    dingtalk_webhook = models.URLField(_("钉钉群机器人地址"), max_length=500, blank=True)
    dingtalk_secret = models.CharField(_("钉钉加签密钥"), max_length=200, blank=True)
    wecom_webhook = models.URLField(_("企业微信群机器人地址"), max_length=500, blank=True)
    # The institution's WeCom self-built app (自建应用), for messages to one person (questionnaire push).
    wecom_corp_id = models.CharField(_("企业微信企业ID"), max_length=64, blank=True)
    wecom_agent_id = models.CharField(_("企业微信应用AgentId"), max_length=20, blank=True)
    wecom_app_secret = models.CharField(_("企业微信应用Secret"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.CheckConstraint(condition=Q(institution__isnull=False, user__isnull=True)
                                   | Q(institution__isnull=True, user__isnull=False),
                                   name="preference_one_owner"),
        ]

    def __str__(self) -> str:
        return str(self.institution or self.user)

    @property
    def has_wecom_app(self) -> bool:
        return bool(self.wecom_corp_id and self.wecom_agent_id and self.wecom_app_secret)


class Cursor(models.Model):
    """How far a sweep got (e.g. the warnings pushed up to this fan-out time), so each runs once."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    position = models.DateTimeField(_("位置"))

    class Meta:
        verbose_name = _("推送进度")
        verbose_name_plural = _("推送进度")

    def __str__(self) -> str:
        return f"{self.name} @ {self.position:%Y-%m-%d %H:%M}"


class PushListStatus(models.TextChoices):
    WAITING = "waiting", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class PushList(models.Model):
    """A list of people an institution served, uploaded to send them one-time questionnaire links
    (清廉码问卷推送). The phone numbers are kept encrypted (Fernet) only until the links are handed to
    the outbox, then erased (`purged_at`); the outbox erases each number once its message is final."""

    Status = PushListStatus

    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    label = models.CharField(_("用途说明"), max_length=100, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    phones_enc = models.TextField(_("名单（加密）"), blank=True, editable=False)
    count = models.PositiveIntegerField(_("人数"))
    year = models.PositiveSmallIntegerField(_("问卷年度"))
    status = models.CharField(_("状态"), max_length=8, choices=PushListStatus.choices,
                              default=PushListStatus.WAITING)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    purged_at = models.DateTimeField(_("名单清除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("问卷推送名单")
        verbose_name_plural = _("问卷推送名单")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=1, count__lte=1000), name="pushlist_count_range"),
            models.CheckConstraint(condition=Q(purged_at__isnull=True) | Q(phones_enc=""),
                                   name="pushlist_purged_is_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} · {self.count}"


class DistrictChannels(models.Model):
    """A district's finance center's own group robots (and optionally its duty phone and mailbox): where
    the reminders and notices meant for "the center" go, so that one district's messages never reach a
    group chat shared with another district's center. A district without any falls back to the
    installation's robots (NOTIFY_DINGTALK_WEBHOOK / _SECRET, NOTIFY_WECOM_WEBHOOK)."""

    district = models.OneToOneField("institutions.District", verbose_name=_("区县"), on_delete=models.CASCADE,
                                    related_name="notification_channels")
    dingtalk_webhook = models.URLField(_("钉钉群机器人地址"), max_length=500, blank=True)
    dingtalk_secret = models.CharField(_("钉钉加签密钥"), max_length=200, blank=True)
    wecom_webhook = models.URLField(_("企业微信群机器人地址"), max_length=500, blank=True)
    phone = models.CharField(_("值班手机号"), max_length=20, blank=True)
    email = models.EmailField(_("中心邮箱"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("修改人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("区县金融工作中心接收渠道")
        verbose_name_plural = _("区县金融工作中心接收渠道")

    def __str__(self) -> str:
        return str(self.district)

    @property
    def configured(self) -> bool:
        """Whether the district has any channel of its own (then the installation's robots are not used)."""
        return bool(self.dingtalk_webhook or self.wecom_webhook or self.phone or self.email)
