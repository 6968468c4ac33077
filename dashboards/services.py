"""Writes of the dashboards: the annual report's lifecycle (request, generation with progress by a
Celery task, files), and warming the results figures' cache when scoring says results changed."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from core.queue import enqueue_after_commit
from institutions.models import District

from .models import AnnualReport, ReportStatus

log = logging.getLogger(__name__)

CONTENT_TYPES = {"pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def results_changed(year: int, district_ids: list[int]) -> None:
    """scoring.services.on_results_changed hook (registered in DashboardsConfig.ready): after an
    aggregation, notice, publish or reopen of (year, districts) committed, queue the warm-up of those
    districts' results figures, one task for all of them (an aggregation batch holds dozens). The
    figures' cache keys carry the results version, so nothing stale is ever served; warming only
    spares the first reader the computation. Only with a real worker: run in process, it would only
    slow down the request that published.
    """
    if settings.CELERY_TASK_ALWAYS_EAGER or not getattr(settings, "DASHBOARDS_WARM_CACHE", True):
        return
    from .tasks import warm_cache

    enqueue_after_commit(warm_cache, year, list(district_ids))


def request_report(district: District, year: int, actor=None, language: str | None = None) -> AnnualReport:
    """Record the request (with the requester's language: the active one unless given) and enqueue its
    generation once this transaction commits."""
    from .tasks import generate_annual_report

    language = report_language(language or translation.get_language())
    report = AnnualReport.objects.create(district=district, year=year, language=language,
                                         created_by=actor if getattr(actor, "pk", None) else None)
    enqueue_after_commit(generate_annual_report, report.pk)
    return report


def reap_stale_reports(older_than) -> int:
    """core's reaper (registered in DashboardsConfig.ready): reports still queued since before
    `older_than`, or generating since then, are marked failed with the reason, to be requested again."""
    from core.queue import stale_reason

    stale = AnnualReport.objects.filter(
        Q(status=ReportStatus.QUEUED, created_at__lt=older_than)
        | Q(status=ReportStatus.RUNNING, started_at__lt=older_than))
    return stale.update(status=ReportStatus.FAILED, error=stale_reason(), finished_at=timezone.now())


def report_language(language: str | None) -> str:
    """One of LANGUAGES for `language` (a request's, or a stored report's): the default language otherwise."""
    codes = [code for code, _name in settings.LANGUAGES]
    if language in codes:
        return language
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return settings.LANGUAGE_CODE


def step_label(step: str) -> str:
    """A stored progress step (its Chinese msgid, whatever the report's language) in the reader's language."""
    return translation.gettext(step) if step else ""


def _progress(report_id: int, percent: int, step: str) -> None:
    # A plain UPDATE outside any transaction: the page polling the report sees each step at once.
    AnnualReport.objects.filter(pk=report_id).update(progress=percent, step=step)


def progress_of(report: AnnualReport) -> int:
    return 100 if report.status == ReportStatus.SUCCEEDED else report.progress


def file_name(report: AnnualReport, kind: str) -> str:
    return f"annual-report-{report.district.code}-{report.year}.{kind}"


def execute_report(report_id: int) -> AnnualReport:
    """Body of the Celery task: gather the figures, draw the charts, write the PDF and the xlsx pack,
    in the language of the user who asked for the report. The progress steps are stored as their
    msgids (gettext_noop) and translated where they are shown, in the reader's language."""
    report = AnnualReport.objects.select_related("district").get(pk=report_id)
    if report.status == ReportStatus.SUCCEEDED:
        return report  # a redelivered message for a finished report
    with translation.override(report_language(report.language)):
        return _execute(report)


def _execute(report: AnnualReport) -> AnnualReport:
    from . import report as builder

    report_id = report.pk
    report.status, report.started_at, report.error = ReportStatus.RUNNING, timezone.now(), ""
    report.progress, report.step = 5, gettext_noop("开始")
    report.save(update_fields=["status", "started_at", "error", "progress", "step"])
    try:
        _progress(report.pk, 10, gettext_noop("汇总数据"))
        content = builder.gather(report.district, report.year)
        _progress(report.pk, 50, gettext_noop("生成 PDF"))
        pdf = builder.render_pdf(content)
        _progress(report.pk, 80, gettext_noop("生成 Excel 数据包"))
        xlsx = builder.render_xlsx(content)
        _progress(report.pk, 95, gettext_noop("保存文件"))
        report.refresh_from_db()
        report.pdf.save(file_name(report, "pdf"), ContentFile(pdf), save=False)
        report.xlsx.save(file_name(report, "xlsx"), ContentFile(xlsx), save=False)
    except Exception as exc:
        log.exception("annual report %s failed", report_id)
        AnnualReport.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED, error=str(exc)[:2000],
                                                         finished_at=timezone.now())
        raise
    report.status, report.progress, report.step = ReportStatus.SUCCEEDED, 100, gettext_noop("完成")
    report.finished_at = timezone.now()
    report.save(update_fields=["pdf", "xlsx", "status", "progress", "step", "finished_at"])
    return report
