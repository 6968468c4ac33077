"""The rectification notice (整改通知书) as a PDF, rendered with WeasyPrint as dashboards' annual
report is (HTML template → PDF)."""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _


def notice_context(visit) -> dict:
    findings = list(visit.findings.select_related("tracked_item", "clause").order_by("id"))
    return {
        "visit": visit,
        "district": visit.district,
        "institution": visit.institution,
        "findings": [{"n": i, "clause": f.clause_number, "clause_title": f.clause.title,
                      "severity": f.get_severity_display(), "description": f.description,
                      "rectify_within": f.rectify_within, "due_on": f.tracked_item.due_on}
                     for i, f in enumerate(findings, start=1)],
        "issued_on": timezone.localtime(visit.notice_issued_at or timezone.now()).date(),
        "issuer": _("{district}金融工作中心").format(district=visit.district.name),
    }


def render_notice(visit) -> bytes:
    from weasyprint import HTML  # imported here: it loads pango through cffi

    html = render_to_string("inspections/notice.html", notice_context(visit))
    out = io.BytesIO()
    HTML(string=html, base_url=None).write_pdf(out)
    return out.getvalue()
