"""The background exports' pages (`core.export_jobs`): progress (HTML, or JSON for the page's script)
and the file, for the requester only."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET

from . import export_jobs


def _job(request, pk: int):
    job = export_jobs.job_for(request.user, pk)
    if job is None:
        raise Http404
    return job


@login_required
@require_GET
def export_job(request, pk: int):
    job = _job(request, pk)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"id": job.pk, "status": job.status, "progress": job.progress, "error": job.error,
                             "file": reverse("export-file", kwargs={"pk": job.pk}) if job.file else None})
    kind = export_jobs.KINDS.get(job.kind)
    try:
        back = reverse(kind.back_url) if kind and kind.back_url else ""
    except NoReverseMatch:
        back = ""
    return render(request, "core/export_job.html", {
        "job": job, "back": back, "status_url": reverse("export-job", kwargs={"pk": job.pk})})


@login_required
@require_GET
def export_file(request, pk: int):
    job = _job(request, pk)
    if job.status != job.Status.SUCCEEDED or not job.file:
        raise Http404
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file_name,
                        content_type=job.content_type or "application/octet-stream")
