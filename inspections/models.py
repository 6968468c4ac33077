"""督查与整改: yearly plans, visits (with photos), findings on a clause of the norms, the
rectification notice (整改通知书), and the stored rectification figures per institution and clause.

A finding's rectification is a tracked item (tracking.TrackedItem, kind `finding`, source
"inspections" + the finding's id): its status, due date, replies and history live there.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.storage import PrivateStorage

files_storage = PrivateStorage("INSPECTIONS_FILES_ROOT", "inspections")


def _files_storage() -> PrivateStorage:
    return files_storage


class VisitKind(models.TextChoices):
    PLANNED = "planned", _("计划检查")
    UNANNOUNCED = "unannounced", _("明察暗访")
    FOLLOW_UP = "follow_up", _("跟踪回访")


class Severity(models.TextChoices):
    MINOR = "minor", _("一般")
    MAJOR = "major", _("较重")


class Plan(models.Model):
    """A district's inspection plan for a year (年度督查计划)."""

    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="inspection_plans")
    year = models.PositiveSmallIntegerField(_("年度"))
    title = models.CharField(_("标题"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("制定人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("年度督查计划")
        verbose_name_plural = _("年度督查计划")
        ordering = ["-year", "district__code"]
        constraints = [models.UniqueConstraint(fields=["district", "year"], name="inspection_plan_one_per_year")]

    def __str__(self) -> str:
        return _("{district}{year}年度督查计划").format(district=self.district.name, year=self.year)


class PlanEntry(models.Model):
    """One planned visit: which institution, in which month, by which team."""

    plan = models.ForeignKey(Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="entries")
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="+")
    month = models.PositiveSmallIntegerField(_("计划月份"))
    kind = models.CharField(_("检查方式"), max_length=12, choices=VisitKind.choices, default=VisitKind.PLANNED)
    team = models.CharField(_("检查组"), max_length=200, blank=True)
    joint_with_discipline = models.BooleanField(_("会同区纪委"), default=False)
    notes = models.CharField(_("备注"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("计划检查")
        verbose_name_plural = _("计划检查")
        ordering = ["plan", "month", "institution__code"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "institution", "month"], name="plan_entry_unique"),
            models.CheckConstraint(condition=Q(month__gte=1) & Q(month__lte=12), name="plan_entry_month_valid"),
            models.CheckConstraint(condition=Q(kind__in=VisitKind.values), name="plan_entry_kind_valid"),
        ]

    def __str__(self) -> str:
        return _("{month}月 {institution}").format(month=self.month, institution=self.institution)


class Visit(models.Model):
    """A visit (督查) to an institution, with its team, the people met, notes, photos and findings.

    Once it has findings it has a rectification notice: `notice_seq` numbers it within the
    district and the visit's year (路金清整〔2026〕7号), and `notice_pdf` archives the PDF."""

    Kind = VisitKind

    institution = models.ForeignKey("institutions.Institution", verbose_name=_("被检查机构"),
                                    on_delete=models.PROTECT, related_name="inspection_visits")
    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="+")
    visited_on = models.DateField(_("检查日期"))
    kind = models.CharField(_("检查方式"), max_length=12, choices=VisitKind.choices, default=VisitKind.PLANNED)
    joint_with_discipline = models.BooleanField(_("会同区纪委联合检查"), default=False)
    team = models.JSONField(_("检查组成员"), default=list, blank=True)
    people_met = models.CharField(_("接洽人员"), max_length=300, blank=True)
    notes = models.TextField(_("检查情况"), blank=True)
    plan_entry = models.ForeignKey(PlanEntry, verbose_name=_("对应计划"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="visits")
    notice_year = models.PositiveSmallIntegerField(_("通知书年度"), null=True, blank=True)
    notice_seq = models.PositiveIntegerField(_("通知书序号"), null=True, blank=True)
    notice_number = models.CharField(_("通知书文号"), max_length=40, blank=True)
    notice_pdf = models.FileField(_("整改通知书"), storage=_files_storage, upload_to="notices/%Y", blank=True)
    notice_issued_at = models.DateTimeField(_("通知书出具时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("督查记录")
        verbose_name_plural = _("督查记录")
        ordering = ["-visited_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=VisitKind.values), name="visit_kind_valid"),
            models.UniqueConstraint(fields=["district", "notice_year", "notice_seq"],
                                    condition=Q(notice_seq__isnull=False), name="visit_notice_number_unique"),
            models.CheckConstraint(condition=Q(notice_seq__isnull=True) | Q(notice_year__isnull=False),
                                   name="visit_notice_has_year"),
        ]
        indexes = [models.Index(fields=["district", "visited_on"])]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.institution}（{self.get_kind_display()}）"


class VisitPhoto(models.Model):
    """A photo taken on site: a working copy without metadata, and the original sealed (encrypted)
    with its SHA-256 and the time and place its EXIF recorded."""

    visit = models.ForeignKey(Visit, verbose_name=_("督查记录"), on_delete=models.CASCADE, related_name="photos")
    position = models.PositiveSmallIntegerField(_("序号"))
    working = models.FileField(_("照片（已去除元数据）"), storage=_files_storage, upload_to="photos/%Y/%m")
    content_type = models.CharField(_("类型"), max_length=20)
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    sealed_original = models.FileField(_("封存原件（加密）"), storage=_files_storage, upload_to="sealed/%Y/%m")
    original_sha256 = models.CharField(_("原件 SHA-256"), max_length=64)
    original_size = models.PositiveIntegerField(_("原件大小（字节）"))
    taken_at = models.CharField(_("拍摄时间（原件记录）"), max_length=40, blank=True)
    place = models.CharField(_("拍摄地点（原件记录）"), max_length=80, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("现场照片")
        verbose_name_plural = _("现场照片")
        ordering = ["visit", "position"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "position"], name="visit_photo_position_unique"),
            models.CheckConstraint(condition=Q(position__gte=1) & Q(position__lte=12),
                                   name="visit_photo_at_most_twelve"),
        ]

    def __str__(self) -> str:
        return f"#{self.visit_id}-{self.position}"


class Finding(models.Model):
    """A problem found on a visit, on a clause of the district's norms for the visit's year; its
    rectification is `tracked_item`."""

    Severity = Severity

    visit = models.ForeignKey(Visit, verbose_name=_("督查记录"), on_delete=models.PROTECT, related_name="findings")
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="inspection_findings")
    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    clause = models.ForeignKey("scoring.NormClause", verbose_name=_("规范条款"), on_delete=models.PROTECT,
                               related_name="+")
    clause_number = models.CharField(_("条号"), max_length=10)
    severity = models.CharField(_("严重程度"), max_length=8, choices=Severity.choices)
    description = models.TextField(_("问题描述"))
    rectify_within = models.PositiveSmallIntegerField(_("整改期限（工作日）"))
    tracked_item = models.OneToOneField("tracking.TrackedItem", verbose_name=_("整改督办"), on_delete=models.PROTECT,
                                        related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("记录人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("发现问题")
        verbose_name_plural = _("发现问题")
        ordering = ["visit", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="finding_severity_valid"),
            models.CheckConstraint(condition=~Q(description=""), name="finding_description_not_blank"),
            models.CheckConstraint(condition=Q(rectify_within__gte=1), name="finding_rectify_within_positive"),
        ]
        indexes = [models.Index(fields=["institution", "year", "clause_number"])]

    def __str__(self) -> str:
        return f"{self.clause_number} {self.description[:30]}"


class BonusConfirmation(models.Model):
    """A visit confirming a bonus item (加分项) of the institution's year, with its evidence: the
    inspection sheet shows it as confirmed."""

    visit = models.ForeignKey(Visit, verbose_name=_("督查记录"), on_delete=models.CASCADE,
                              related_name="bonus_confirmations")
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.PROTECT,
                                    related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    indicator = models.ForeignKey("scoring.Indicator", verbose_name=_("加分项"), on_delete=models.PROTECT,
                                  related_name="+")
    evidence = models.TextField(_("佐证情况"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("确认时间"), default=timezone.now)

    class Meta:
        verbose_name = _("加分项确认")
        verbose_name_plural = _("加分项确认")
        ordering = ["visit", "id"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year", "indicator"], name="bonus_confirmed_once"),
            models.CheckConstraint(condition=~Q(evidence=""), name="bonus_evidence_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.institution} {self.indicator}"


class RectificationTally(models.Model):
    """Stored figures for the dashboards: per institution, year and clause, how many findings are
    open, overdue, reported, closed, and closed on time. Kept by the services on every change and
    recounted nightly (overdue moves with the calendar)."""

    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    district = models.ForeignKey("institutions.District", verbose_name=_("区县"), on_delete=models.PROTECT,
                                 related_name="+")
    year = models.PositiveSmallIntegerField(_("年度"))
    clause_number = models.CharField(_("条号"), max_length=10)
    total = models.PositiveIntegerField(_("问题数"), default=0)
    open = models.PositiveIntegerField(_("整改中"), default=0)
    overdue = models.PositiveIntegerField(_("逾期未整改"), default=0)
    reported = models.PositiveIntegerField(_("待审核"), default=0)
    closed = models.PositiveIntegerField(_("已销号"), default=0)
    closed_on_time = models.PositiveIntegerField(_("按期销号"), default=0)
    counted_on = models.DateField(_("统计日"))

    class Meta:
        verbose_name = _("整改统计")
        verbose_name_plural = _("整改统计")
        ordering = ["year", "institution__code", "clause_number"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "year", "clause_number"], name="rectification_tally_unique"),
        ]
        indexes = [models.Index(fields=["district", "year"])]

    def __str__(self) -> str:
        return f"{self.institution} {self.year} {self.clause_number}"
