"""年度活动与通知: the programme's year as the portal sees it.

- the activity ledger (清廉文化、警示教育、廉洁承诺、廉洁家访…), each activity supporting clauses of
  the year's norms, with photos (working copies stripped of metadata) and materials;
- training sessions with attendance per employee and the hours per employee and year (stored
  figures the portraits and dashboards read through selectors);
- self-chosen actions (自选动作, the "X") and the showcases (样板) the finance center marks;
- notices (通知) and campaigns (专项治理 / 专项排查) with read receipts and returns (报送);
- links between these records and the self sheet's evidence, and the archive (档案) jobs.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.storage import PrivateStorage
from institutions.models import InstitutionCategory

files_storage = PrivateStorage("ACTIVITIES_FILES_ROOT", "activities")


def _files_storage() -> PrivateStorage:
    return files_storage


class KindCategory(models.TextChoices):
    CULTURE = "culture", _("清廉文化")
    TRAINING = "training", _("培训")
    WARNING_EDUCATION = "warning_education", _("警示教育")
    COMMITMENT = "commitment", _("廉洁承诺")
    FAMILY_VISIT = "family_visit", _("廉洁家访")
    SELF_CHOSEN = "self_chosen", _("自选动作")
    OTHER = "other", _("其他")


class ActivityKind(models.Model):
    """One entry of a district's catalogue of activity kinds (清风墙, 警示教育展…), each of a category."""

    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="activity_kinds")
    category = models.CharField(_("类别"), max_length=24, choices=KindCategory.choices)
    name = models.CharField(_("名称"), max_length=60)
    is_active = models.BooleanField(_("启用"), default=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("活动类型")
        verbose_name_plural = _("活动类型")
        ordering = ["district", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="activitykind_unique_name"),
            models.CheckConstraint(condition=Q(category__in=KindCategory.values), name="activitykind_category_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="activitykind_name_not_blank"),
        ]

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="activities")
    kind = models.ForeignKey(ActivityKind, verbose_name=_("活动类型"), on_delete=models.PROTECT,
                             related_name="activities")
    title = models.CharField(_("活动名称"), max_length=200)
    held_on = models.DateField(_("活动日期"))
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    organiser = models.CharField(_("组织者"), max_length=100, blank=True)
    participants = models.ManyToManyField("institutions.Employee", verbose_name=_("参加人员"), blank=True,
                                          related_name="activities")
    participant_count = models.PositiveIntegerField(_("参加人数"), default=0)
    description = models.TextField(_("活动内容"), blank=True)
    clauses = models.ManyToManyField("scoring.NormClause", verbose_name=_("对应条款"), blank=True,
                                     related_name="activities")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动台账")
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="activity_title_not_blank"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="activity_year_range"),
        ]
        indexes = [models.Index(fields=["institution", "year"], name="activity_inst_year_idx")]

    def __str__(self) -> str:
        return self.title


class FileKind(models.TextChoices):
    PHOTO = "photo", _("照片")
    MATERIAL = "material", _("材料")


class ActivityFile(models.Model):
    """A photo (the working copy, re-encoded without EXIF/GPS; the original's digest is kept) or a
    material (PDF / Office file, checked by content)."""

    activity = models.ForeignKey(Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(_("类型"), max_length=10, choices=FileKind.choices)
    file = models.FileField(_("文件"), storage=_files_storage, upload_to="activities/%Y/%m")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))
    original_sha256 = models.CharField(_("原件SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("活动附件")
        verbose_name_plural = _("活动附件")
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(size__lte=10 * 1024 * 1024),
                                              name="activityfile_at_most_10mb")]

    def __str__(self) -> str:
        return self.original_name


class TrainingSession(models.Model):
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="training_sessions")
    title = models.CharField(_("培训主题"), max_length=200)
    held_on = models.DateField(_("培训日期"))
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1)
    trainer = models.CharField(_("授课人"), max_length=100, blank=True)
    place = models.CharField(_("地点"), max_length=200, blank=True)
    is_warning_education = models.BooleanField(_("警示教育"), default=False)
    description = models.TextField(_("内容"), blank=True)
    clauses = models.ManyToManyField("scoring.NormClause", verbose_name=_("对应条款"), blank=True,
                                     related_name="training_sessions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("培训")
        verbose_name_plural = _("培训记录")
        ordering = ["-held_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="training_title_not_blank"),
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=100), name="training_hours_range"),
        ]

    def __str__(self) -> str:
        return self.title


class Attendance(models.Model):
    session = models.ForeignKey(TrainingSession, verbose_name=_("培训"), on_delete=models.CASCADE,
                                related_name="attendance")
    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.CASCADE,
                                 related_name="training_attendance")
    hours = models.DecimalField(_("学时"), max_digits=4, decimal_places=1)

    class Meta:
        verbose_name = _("培训签到")
        verbose_name_plural = _("培训签到")
        constraints = [
            models.UniqueConstraint(fields=["session", "employee"], name="attendance_once_per_session"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="attendance_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} · {self.employee_id}"


class TrainingHours(models.Model):
    """An employee's training hours of a year (stored: recomputed by services on every attendance
    change); what portraits and dashboards read through selectors."""

    employee = models.ForeignKey("institutions.Employee", verbose_name=_("员工"), on_delete=models.CASCADE,
                                 related_name="training_hours")
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    hours = models.DecimalField(_("学时"), max_digits=6, decimal_places=1, default=0)
    sessions = models.PositiveIntegerField(_("场次"), default=0)

    class Meta:
        verbose_name = _("年度学时")
        verbose_name_plural = _("年度学时")
        constraints = [
            models.UniqueConstraint(fields=["employee", "year"], name="traininghours_employee_year"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="traininghours_not_negative"),
        ]
        indexes = [models.Index(fields=["institution", "year"], name="traininghours_inst_year_idx")]

    def __str__(self) -> str:
        return f"{self.employee_id} · {self.year} · {self.hours}"


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("推进中")
    DONE = "done", _("已完成")


class SelfChosenAction(models.Model):
    """An institution's self-chosen action (自选动作) of a year; the finance center may mark it a
    showcase (样板)."""

    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="self_chosen_actions")
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("名称"), max_length=200)
    goals = models.TextField(_("目标"))
    measures = models.TextField(_("举措"), blank=True)
    results = models.TextField(_("成效"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=ActionStatus.choices, default=ActionStatus.PLANNED)
    clauses = models.ManyToManyField("scoring.NormClause", verbose_name=_("对应条款"), blank=True,
                                     related_name="self_chosen_actions")
    is_showcase = models.BooleanField(_("样板"), default=False)
    showcase_note = models.TextField(_("样板评语"), blank=True)
    showcase_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评定人"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    showcase_at = models.DateTimeField(_("评定时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自选动作")
        verbose_name_plural = _("自选动作")
        ordering = ["-year", "-is_showcase", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="action_title_not_blank"),
            models.CheckConstraint(condition=Q(status__in=ActionStatus.values), name="action_status_valid"),
            models.CheckConstraint(condition=Q(is_showcase=False) | Q(showcase_at__isnull=False),
                                   name="action_showcase_dated"),
        ]

    def __str__(self) -> str:
        return self.title


class CampaignKind(models.TextChoices):
    GOVERNANCE = "governance", _("专项治理")
    SCREENING = "screening", _("专项排查")


class Campaign(models.Model):
    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="campaigns")
    kind = models.CharField(_("类型"), max_length=12, choices=CampaignKind.choices)
    title = models.CharField(_("名称"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("创建人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("专项行动")
        verbose_name_plural = _("专项行动")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="campaign_title_not_blank"),
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="campaign_dates_ordered"),
            models.CheckConstraint(condition=Q(kind__in=CampaignKind.values), name="campaign_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.title


class Audience(models.TextChoices):
    DISTRICT = "district", _("全区机构")
    CATEGORY = "category", _("某类机构")
    INSTITUTIONS = "institutions", _("指定机构")


class ReturnKind(models.TextChoices):
    NONE = "", _("无需报送")
    FORM = "form", _("填写报送")
    FILE = "file", _("上传文件")


class Notice(models.Model):
    """A district notice (通知 / 实施方案) to its institutions; may ask each for a return (报送)."""

    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="notices")
    campaign = models.ForeignKey(Campaign, verbose_name=_("专项行动"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="notices")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    audience = models.CharField(_("发送范围"), max_length=12, choices=Audience.choices, default=Audience.DISTRICT)
    category = models.CharField(_("机构类别"), max_length=20, choices=InstitutionCategory.choices, blank=True)
    return_kind = models.CharField(_("报送要求"), max_length=4, choices=ReturnKind.choices, blank=True, default="")
    return_instructions = models.TextField(_("报送说明"), blank=True)
    return_within = models.PositiveSmallIntegerField(_("报送期限（工作日）"), null=True, blank=True)
    return_due_on = models.DateField(_("报送截止日"), null=True, blank=True)
    clause = models.ForeignKey("scoring.NormClause", verbose_name=_("对应条款"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    publisher = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发布人"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="notice_title_not_blank"),
            models.CheckConstraint(condition=~Q(body=""), name="notice_body_not_blank"),
            models.CheckConstraint(condition=Q(return_kind="") | Q(return_due_on__isnull=False,
                                                                 return_within__gte=1),
                                   name="notice_return_has_due_date"),
            models.CheckConstraint(condition=Q(audience=Audience.CATEGORY, category__in=InstitutionCategory.values)
                                   | (~Q(audience=Audience.CATEGORY) & Q(category="")),
                                   name="notice_category_matches_audience"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def asks_return(self) -> bool:
        return bool(self.return_kind)


class NoticeAttachment(models.Model):
    notice = models.ForeignKey(Notice, verbose_name=_("通知"), on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("文件"), storage=_files_storage, upload_to="notices/%Y/%m")
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小（字节）"))

    class Meta:
        verbose_name = _("通知附件")
        verbose_name_plural = _("通知附件")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name


class ReturnStatus(models.TextChoices):
    PENDING = "pending", _("待报送")
    SUBMITTED = "submitted", _("已报送")
    ACCEPTED = "accepted", _("已通过")
    RETURNED = "returned", _("已退回")


class NoticeRecipient(models.Model):
    """One institution a notice reached: its read receipt and, when the notice asks, its return.
    The return is a tracked item (tracking.TrackedItem: due date in working days, replies, accept /
    return, reminders); its status and due date are mirrored here by services.on_tracked_change."""

    notice = models.ForeignKey(Notice, verbose_name=_("通知"), on_delete=models.CASCADE, related_name="recipients")
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="notice_receipts")
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    read_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("阅读人"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    return_status = models.CharField(_("报送状态"), max_length=10, choices=ReturnStatus.choices, blank=True,
                                     default="")
    due_on = models.DateField(_("报送截止日"), null=True, blank=True)
    return_text = models.TextField(_("报送内容"), blank=True)
    return_file = models.FileField(_("报送文件"), storage=_files_storage, upload_to="returns/%Y/%m", blank=True)
    return_file_name = models.CharField(_("报送文件名"), max_length=200, blank=True)
    returned_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_reason = models.TextField(_("退回原因"), blank=True)
    tracked_item = models.OneToOneField("tracking.TrackedItem", verbose_name=_("督办事项"), null=True, blank=True,
                                        on_delete=models.SET_NULL, related_name="notice_receipt")

    class Meta:
        verbose_name = _("通知接收")
        verbose_name_plural = _("通知接收")
        ordering = ["notice", "institution__code"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "institution"], name="recipient_once_per_notice"),
            models.CheckConstraint(condition=Q(return_status="") | Q(return_status__in=ReturnStatus.values),
                                   name="recipient_return_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.institution_id}"


class EvidenceSource(models.TextChoices):
    ACTIVITY = "activity", _("活动")
    TRAINING = "training", _("培训")
    SHOWCASE = "showcase", _("自选动作样板")
    RETURN = "return", _("专项报送")


class EvidenceLink(models.Model):
    """A record of this app attached to a self sheet's entry as evidence (scoring.Evidence): offered
    once per record and indicator."""

    evidence = models.OneToOneField("scoring.Evidence", verbose_name=_("佐证材料"), on_delete=models.CASCADE,
                                    related_name="activity_link")
    assessment = models.ForeignKey("scoring.Assessment", verbose_name=_("测评表"), on_delete=models.CASCADE,
                                   related_name="+")
    indicator_code = models.CharField(_("指标编码"), max_length=20)
    source = models.CharField(_("来源"), max_length=10, choices=EvidenceSource.choices)
    object_id = models.PositiveBigIntegerField(_("记录编号"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("引用佐证")
        verbose_name_plural = _("引用佐证")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "indicator_code", "source", "object_id"],
                                    name="evidencelink_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.object_id} → {self.indicator_code}"


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ArchiveJob(models.Model):
    """One archive (档案) build: an institution-year, or a whole district-year (institution empty)."""

    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="+")
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=ArchiveStatus.choices, default=ArchiveStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    file = models.FileField(_("档案文件"), storage=_files_storage, upload_to="archives/%Y", blank=True)
    files_count = models.PositiveIntegerField(_("文件数"), default=0)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("档案")
        verbose_name_plural = _("档案")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="archive_progress_le_100"),
            models.CheckConstraint(condition=Q(status__in=ArchiveStatus.values), name="archive_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.institution or self.district} {self.year}"
