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
    # The requester's language at the request: the task writes the PDF and the xlsx pack in it.
    language = models.CharField(_("语言"), max_length=10, default=settings.LANGUAGE_CODE, blank=True)
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
        return _("%(district)s %(year)s 年度报告 #%(id)s") % {"district": self.district.name, "year": self.year,
                                                             "id": self.pk}

    @property
    def finished(self) -> bool:
        return self.status in (ReportStatus.SUCCEEDED, ReportStatus.FAILED)
