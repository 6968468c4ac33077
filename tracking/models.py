"""督办事项: one "reply by a date, then accept or return" duty of an institution.

A tracked item belongs to one institution (and so to its district). Its subject is generic: a
`kind` (an inspection finding, a complaint handed over, a campaign return, a risk alert) and the
`source_app` + `source_id` of the object it is about, so tracking never imports the apps that use
it. Its status is `open` → `reported` → `closed` (销号), or back to `open` when the reviewer returns
the reply; "overdue" is derived (open and past `due_on`), never stored. Every change leaves an
`Event` (the full history); replies keep their measures and evidence files; `Reminder` rows make
the beat job's mails idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.storage import PrivateStorage

evidence_storage = PrivateStorage("TRACKING_EVIDENCE_ROOT", "tracking")


def _evidence_storage() -> PrivateStorage:
    return evidence_storage


class Kind(models.TextChoices):
    FINDING = "finding", _("督查发现问题整改")
    COMPLAINT_REFERRAL = "complaint_referral", _("投诉举报交办")
    CAMPAIGN_RETURN = "campaign_return", _("专项报送")
    ALERT = "alert", _("风险预警处置")
    OTHER = "other", _("其他督办事项")


class Status(models.TextChoices):
    OPEN = "open", _("待整改")
    REPORTED = "reported", _("已报送，待审核")
    CLOSED = "closed", _("已销号")


class TrackedItem(models.Model):
    Kind = Kind
    Status = Status

    institution = models.ForeignKey("institutions.Institution", verbose_name=_("责任机构"),
                                    on_delete=models.PROTECT, related_name="tracked_items")
    district = models.ForeignKey("institutions.District", verbose_name=_("所属区县"), on_delete=models.PROTECT,
                                 related_name="tracked_items")
    kind = models.CharField(_("事项类型"), max_length=24, choices=Kind.choices)
    source_app = models.CharField(_("来源应用"), max_length=40, blank=True)
    source_id = models.PositiveBigIntegerField(_("来源编号"), null=True, blank=True)
    title = models.CharField(_("事项"), max_length=300)
    detail = models.TextField(_("要求"), blank=True)
    start_on = models.DateField(_("起算日"))
    working_days = models.PositiveSmallIntegerField(_("办理期限（工作日）"))
    due_on = models.DateField(_("办结期限"), db_index=True)
    due_provisional = models.BooleanField(_("期限待节假日安排确认"), default=False)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    reported_at = models.DateTimeField(_("最近报送时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("销号时间"), null=True, blank=True)
    # Set when closed: the accepted reply was sent no later than the due date in force then.
    closed_on_time = models.BooleanField(_("按期整改"), null=True, blank=True)
    returns = models.PositiveSmallIntegerField(_("退回次数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("交办人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("督办事项")
        verbose_name_plural = _("督办事项")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="tracked_item_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="tracked_item_status_valid"),
            models.CheckConstraint(condition=~Q(title=""), name="tracked_item_title_not_blank"),
            models.CheckConstraint(condition=Q(working_days__gte=1), name="tracked_item_working_days_positive"),
            models.CheckConstraint(condition=Q(due_on__gt=models.F("start_on")), name="tracked_item_due_after_start"),
            models.CheckConstraint(condition=~Q(status="closed") | Q(closed_at__isnull=False),
                                   name="tracked_item_closed_has_time"),
        ]
        indexes = [models.Index(fields=["district", "status", "due_on"]),
                   models.Index(fields=["source_app", "source_id"])]

    def __str__(self) -> str:
        return f"{self.title}（{self.get_status_display()}）"

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status == Status.OPEN and self.due_on < today


class Reply(models.Model):
    """The institution's report: its measures, with evidence files."""

    item = models.ForeignKey(TrackedItem, verbose_name=_("督办事项"), on_delete=models.CASCADE,
                             related_name="replies")
    measures = models.TextField(_("整改措施及结果"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("报送人"), null=True,
                               on_delete=models.SET_NULL, related_name="+")
    due_on = models.DateField(_("报送时的期限"))
    on_time = models.BooleanField(_("按期报送"))
    created_at = models.DateTimeField(_("报送时间"), default=timezone.now)

    class Meta:
        verbose_name = _("整改报告")
        verbose_name_plural = _("整改报告")
        ordering = ["item", "created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(measures=""), name="tracking_reply_measures_not_blank")]

    def __str__(self) -> str:
        return f"#{self.item_id} {self.created_at:%Y-%m-%d}"


class EvidenceFile(models.Model):
    reply = models.ForeignKey(Reply, verbose_name=_("整改报告"), on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("佐证材料"), storage=_evidence_storage, upload_to="evidence/%Y/%m")
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")
        ordering = ["reply", "id"]

    def __str__(self) -> str:
        return self.name


class EventAction(models.TextChoices):
    CREATED = "created", _("交办")
    REPORTED = "reported", _("报送整改情况")
    ACCEPTED = "accepted", _("审核通过，销号")
    RETURNED = "returned", _("退回重新整改")
    REMINDED = "reminded", _("到期提醒")
    OVERDUE = "overdue", _("逾期提醒")
    ESCALATED = "escalated", _("逾期上报")


class Event(models.Model):
    """The item's history: who did what, when, with the due date before and after."""

    Action = EventAction

    item = models.ForeignKey(TrackedItem, verbose_name=_("督办事项"), on_delete=models.CASCADE,
                             related_name="events")
    action = models.CharField(_("动作"), max_length=12, choices=EventAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("说明"), blank=True)
    due_on = models.DateField(_("期限"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("督办记录")
        verbose_name_plural = _("督办记录")
        ordering = ["item", "at", "id"]
        constraints = [models.CheckConstraint(condition=Q(action__in=EventAction.values),
                                              name="tracking_event_action_valid")]

    def __str__(self) -> str:
        return f"#{self.item_id} {self.get_action_display()}"


class ReminderKind(models.TextChoices):
    DUE_SOON = "due_soon", _("即将到期提醒")
    OVERDUE = "overdue", _("逾期提醒")
    ESCALATION = "escalation", _("逾期上报负责人和区金融工作中心")


class Reminder(models.Model):
    """One reminder sent for one due date: the beat job never sends it twice."""

    Kind = ReminderKind

    item = models.ForeignKey(TrackedItem, verbose_name=_("督办事项"), on_delete=models.CASCADE,
                             related_name="reminders")
    kind = models.CharField(_("提醒类型"), max_length=12, choices=ReminderKind.choices)
    due_on = models.DateField(_("针对的期限"))
    recipients = models.PositiveSmallIntegerField(_("收件人数"), default=0)
    sent_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("督办提醒")
        verbose_name_plural = _("督办提醒")
        ordering = ["-sent_at"]
        constraints = [models.UniqueConstraint(fields=["item", "kind", "due_on"], name="tracking_reminder_once")]

    def __str__(self) -> str:
        return f"#{self.item_id} {self.get_kind_display()} {self.due_on}"
