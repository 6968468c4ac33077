"""core's models: the mail outbox every app sends through (services in `core/outbox.py`), the tasks waiting
for the broker (`core/queue.py`) and the background exports (`core/export_jobs.py`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .storage import PrivateStorage


class OutgoingMail(models.Model):
    """One mail waiting to go, sent or given up on.

    Written in the transaction of the change it reports (so it exists if and only if that change
    committed), sent by `core.outbox.send_pending` with retries and backoff. The `key` makes
    enqueuing idempotent: a second mail with the same key is never stored.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    key = models.CharField(_("去重键"), max_length=320, unique=True)
    kind = models.CharField(_("类别"), max_length=60, help_text=_("发出该邮件的应用和用途，例如 complaints.digest"))
    recipients = models.JSONField(_("收件人"), default=list)
    subject = models.CharField(_("标题"), max_length=255)
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    not_before = models.DateTimeField(_("最早发送时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        verbose_name = _("外发邮件")
        verbose_name_plural = _("外发邮件")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sender's query: pending mails whose time has come, oldest first.
            models.Index(fields=["not_before", "id"], condition=Q(status="pending"), name="outgoingmail_pending"),
            models.Index(fields=["kind", "status"], name="outgoingmail_kind_status"),
            models.Index(fields=["created_at"], name="outgoingmail_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(subject=""), name="outgoingmail_subject_not_blank"),
            models.CheckConstraint(condition=Q(attempts__gte=0), name="outgoingmail_attempts_not_negative"),
            models.CheckConstraint(condition=Q(status__in=["pending", "sent", "failed"]),
                                   name="outgoingmail_status_known"),
            # Sent exactly when it has a sending time.
            models.CheckConstraint(condition=Q(status="sent", sent_at__isnull=False) | (~Q(status="sent")
                                                                                         & Q(sent_at__isnull=True)),
                                   name="outgoingmail_sent_iff_sent_at"),
        ]

    def __str__(self) -> str:
        return self.subject


class QueuedTask(models.Model):
    """A Celery task whose publication failed (the broker was unreachable) and that waits here.

    Written by `core.queue` after the caller's commit when publishing fails; the beat job
    `core.drain_queued_tasks` publishes what is here again, oldest first, and deletes each row once
    the broker took it. The tasks are idempotent, so a task published twice does no harm.
    """

    task_name = models.CharField(_("任务"), max_length=200)
    args = models.JSONField(_("位置参数"), default=list)
    kwargs = models.JSONField(_("关键字参数"), default=dict)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("重试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)

    class Meta:
        verbose_name = _("待投递任务")
        verbose_name_plural = _("待投递任务")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.task_name} #{self.pk}"


# Background exports' files, never under MEDIA_ROOT: EXPORTS_ROOT, by default BASE_DIR/private_media/exports.
export_storage = PrivateStorage("EXPORTS_ROOT", "exports")


def _export_storage() -> PrivateStorage:
    return export_storage


class ExportJob(models.Model):
    """A large export made by a Celery task instead of in the request (issue 16: a province's
    ledger or statistics took 10–60 s to write). Requested, executed and read through
    `core.export_jobs`; the file is served only to its requester."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        SUCCEEDED = "succeeded", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类别"), max_length=60)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    language = models.CharField(_("语言"), max_length=10, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"),
                                   on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    file = models.FileField(_("文件"), storage=_export_storage, upload_to="%Y/%m", blank=True, max_length=200)
    file_name = models.CharField(_("文件名"), max_length=120, blank=True)
    content_type = models.CharField(_("文件类型"), max_length=120, blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台导出")
        verbose_name_plural = _("后台导出")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "kind", "status"], name="exportjob_requester_kind")]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="exportjob_progress_at_most_100"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "succeeded", "failed"]),
                                   name="exportjob_status_known"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)
