"""督查与整改: reads, scoped per user. Public to other apps (with services.py).

Visibility (DOMAIN.md): visits and findings are seen by the institution's filer and head (their own
institution) and by the finance center and inspectors of the district; nobody else (404).

For the scoring sheet and the dashboards:
- `findings_by_clause(institution_id, year)` → {"3.2": [{"id", "severity", "severity_label",
  "description", "due_on", "status", "status_label", "overdue"}], ...}: the year's findings per clause;
- `confirmed_bonuses(institution_id, year)` → {indicator_id: evidence};
- `tally(institution_id=None, district_id=None, year)` → stored figures {"total", "open", "overdue",
  "reported", "closed", "closed_on_time", "on_time_rate"}; `tally_by_clause(district_id, year)` and
  `tally_by_institution(district_id, year)` → rows of the same per clause / institution (both
  narrowed to `institution_ids=` when given).
"""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, QuerySet, Sum
from django.utils import timezone

from tracking import selectors as tracked

from . import rules
from .models import BonusConfirmation, Finding, Plan, RectificationTally, Visit, VisitPhoto

FIGURES = ("total", "open", "overdue", "reported", "closed", "closed_on_time")


def visible_visits(user) -> QuerySet[Visit]:
    return tracked.scope(Visit.objects.select_related("institution", "district"), user, "institution")


def visible_findings(user, today: date | None = None) -> QuerySet[Finding]:
    qs = Finding.objects.select_related("institution", "district", "tracked_item", "visit")
    return tracked.with_overdue(tracked.scope(qs, user, "institution"), today, prefix="tracked_item__")


def filter_findings(qs: QuerySet, *, status: str = "", institution: str = "") -> QuerySet:
    if status:
        qs = tracked.filter_status(qs, status, prefix="tracked_item__")
    if institution:
        qs = qs.filter(institution__code=institution)
    return qs


def visit_detail(user, pk: int) -> Visit | None:
    findings = Finding.objects.select_related("tracked_item").order_by("id")
    return (visible_visits(user).prefetch_related(Prefetch("findings", queryset=findings), "photos",
                                                   "bonus_confirmations__indicator")
            .filter(pk=pk).first())


def finding_detail(user, pk: int) -> Finding | None:
    return visible_findings(user).filter(pk=pk).first()


def photo_for(user, pk: int) -> VisitPhoto | None:
    return VisitPhoto.objects.select_related("visit").filter(pk=pk, visit__in=visible_visits(user)).first()


def findings_by_clause(institution_id: int, year: int, today: date | None = None) -> dict[str, list[dict]]:
    today = today or timezone.localdate()
    out: dict[str, list[dict]] = {}
    rows = (Finding.objects.filter(institution_id=institution_id, year=year).select_related("tracked_item")
            .order_by("clause_number", "id"))
    for finding in rows:
        item = finding.tracked_item
        out.setdefault(finding.clause_number, []).append({
            "id": finding.pk, "severity": finding.severity, "severity_label": finding.get_severity_display(),
            "description": finding.description, "due_on": item.due_on, "status": item.status,
            "status_label": item.get_status_display(), "overdue": item.is_overdue(today),
            "visited_on": None,
        })
    return out


def confirmed_bonuses(institution_id: int, year: int) -> dict[int, str]:
    return dict(BonusConfirmation.objects.filter(institution_id=institution_id, year=year)
                .values_list("indicator_id", "evidence"))


def _with_rate(row: dict) -> dict:
    row = {k: row.get(k) or 0 for k in FIGURES} | {k: v for k, v in row.items() if k not in FIGURES}
    due = row["closed"] + row["overdue"]
    row["on_time_rate"] = rules.on_time_rate(row["closed_on_time"], due)
    return row


def tally(year: int, *, institution_id: int | None = None, district_id: int | None = None) -> dict:
    qs = RectificationTally.objects.filter(year=year)
    if institution_id is not None:
        qs = qs.filter(institution_id=institution_id)
    if district_id is not None:
        qs = qs.filter(district_id=district_id)
    return _with_rate(qs.aggregate(**{k: Sum(k) for k in FIGURES}))


def _tallies(district_id: int, year: int, institution_ids) -> QuerySet:
    qs = RectificationTally.objects.filter(district_id=district_id, year=year)
    return qs if institution_ids is None else qs.filter(institution_id__in=institution_ids)


def tally_by_clause(district_id: int, year: int, *, institution_ids=None) -> list[dict]:
    """Per clause; `institution_ids` (ids or a values queryset) narrows it, e.g. to one institution
    or one category (the dashboards)."""
    rows = (_tallies(district_id, year, institution_ids).values("clause_number")
            .annotate(**{f"{k}_sum": Sum(k) for k in FIGURES}).order_by("clause_number"))
    return [_with_rate({"clause": r["clause_number"], **{k: r[f"{k}_sum"] for k in FIGURES}}) for r in rows]


def tally_by_institution(district_id: int, year: int, *, institution_ids=None) -> list[dict]:
    rows = (_tallies(district_id, year, institution_ids)
            .values("institution_id", "institution__code", "institution__name")
            .annotate(**{f"{k}_sum": Sum(k) for k in FIGURES}).order_by("institution__code"))
    return [_with_rate({"institution_id": r["institution_id"], "code": r["institution__code"],
                        "name": r["institution__name"], **{k: r[f"{k}_sum"] for k in FIGURES}}) for r in rows]


def plans_for(user) -> QuerySet[Plan]:
    from institutions import access

    return access.scope_districts(Plan.objects.select_related("district"), user, "district",
                                  roles=("finance_center", "inspector"))
