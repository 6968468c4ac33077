"""The annual report (年度报告): one PDF and one xlsx pack per district and year, made by a Celery task."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.storage import PrivateStorage

# Reports, never under MEDIA_ROOT: DASHBOARDS_REPORTS_ROOT, by default BASE_DIR/private_media/reports.
report_storage = PrivateStorage("DASHBOARDS_REPORTS_ROOT", "reports")


def _report_storage() -> PrivateStorage:
    return report_storage


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("生成中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class AnnualReport(models.Model):
    Status = ReportStatus

    district = models.ForeignKey("institutions.District", verbose_name=_("行政区"), on_delete=models.PROTECT,
                                 related_name="annual_reports")
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("进度（%）"), default=0)
    step = models.CharField(_("当前步骤"), max_length=50, blank=True)
    pdf = models.FileField(_("PDF 报告"), storage=_report_storage, upload_to="%Y", blank=True)
    xlsx = models.FileField(_("Excel 数据包"), storage=_report_storage, upload_to="%Y", blank=True)
    error = models.TextField(_("错误"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发起人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("年度报告")
        verbose_name_plural = _("年度报告")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="annualreport_progress_at_most_100"),
            models.CheckConstraint(condition=Q(status__in=ReportStatus.values), name="annualreport_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.district.name} {self.year} 年度报告 #{self.pk}"

    @property
    def finished(self) -> bool:
        return self.status in (ReportStatus.SUCCEEDED, ReportStatus.FAILED)


class ItemScore(models.Model):
    """An institution's weighted score on one of the norms' items in a year: the items charts' summary.

    Per-item scores are sums over every submitted sheet's entries (540,000 rows for a province),
    too slow to group for each reader. They change only when results do, so they are written once
    per results version by `services.refresh_item_scores` (after each aggregation, publish or
    reopen) and read only while `ItemScoreRefresh.version` equals the current results version;
    otherwise the figures are computed from the entries. Every assessed institution (one with a
    submitted sheet) has a row for every basic item, `score` empty where it entered nothing, so
    the rows also say how many institutions were assessed. Double precision: display figures,
    rounded to cents when shown; the scores that count stay `Decimal` in scoring.
    """

    year = models.PositiveSmallIntegerField(_("年度"))
    institution = models.ForeignKey("institutions.Institution", verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="+")
    item = models.PositiveSmallIntegerField(_("项目序号"))
    score = models.FloatField(_("加权得分"), null=True, blank=True)

    class Meta:
        verbose_name = _("分项得分汇总")
        verbose_name_plural = _("分项得分汇总")
        constraints = [
            models.UniqueConstraint(fields=["year", "item", "institution"], name="itemscore_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.institution_id} #{self.item}: {self.score}"


class ItemScoreRefresh(models.Model):
    """Which results version a year's `ItemScore` rows were computed at."""

    year = models.PositiveSmallIntegerField(_("年度"), unique=True)
    version = models.CharField(_("结果版本"), max_length=255)
    rows = models.PositiveIntegerField(_("行数"), default=0)
    refreshed_at = models.DateTimeField(_("刷新时间"), auto_now=True)

    class Meta:
        verbose_name = _("分项得分汇总刷新")
        verbose_name_plural = _("分项得分汇总刷新")

    def __str__(self) -> str:
        return f"{self.year} @ {self.version}"
