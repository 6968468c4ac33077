"""风险预警: every read, scoped by who asks (RISK.md "Alerts" and "API").

- An institution's filers and heads: their institution's alerts, screenings, uploads and settings.
- The district's finance center: escalated alerts of its districts only, and the stored summary.
- Everyone else: nothing (lists are empty, objects 404).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import IntegerField, Q, QuerySet, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from institutions import access
from institutions.models import Employee, Institution, Role

from .models import Alert, AlertStatus, InstitutionSummary, Screening, Suppression, Upload
from .services import OPEN_STATUSES, actor_institution_ids


def visible_alerts(user) -> QuerySet:
    qs = Alert.objects.select_related("institution__district")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    condition = Q(institution_id__in=actor_institution_ids(user))
    districts = access.district_ids(user, Role.FINANCE_CENTER)
    if districts is None:  # the installation administrator: escalated alerts, as a finance center
        return qs.filter(condition | Q(status=AlertStatus.ESCALATED))
    if districts:
        condition |= Q(status=AlertStatus.ESCALATED, institution__district_id__in=districts)
    return qs.filter(condition)


def is_overdue(alert: Alert, today: dt.date | None = None) -> bool:
    return alert.status in OPEN_STATUSES and alert.due_on < (today or timezone.localdate())


def overdue_alerts(user) -> QuerySet:
    return visible_alerts(user).filter(status__in=OPEN_STATUSES, due_on__lt=timezone.localdate())


def own_screenings(user) -> QuerySet:
    return Screening.objects.filter(institution_id__in=actor_institution_ids(user)).select_related("institution")


def own_uploads(user) -> QuerySet:
    return Upload.objects.filter(institution_id__in=actor_institution_ids(user)).select_related("institution")


def own_suppressions(user) -> QuerySet:
    return (Suppression.objects.filter(institution_id__in=actor_institution_ids(user)).select_related("institution")
            .order_by("rule", "employee_no", "pk"))


def visible_employees(user) -> QuerySet:
    """GET /employees/: an institution's filers and heads its employees, the finance center its
    districts', an employee only their own record (not their colleagues)."""
    qs = Employee.objects.select_related("institution__district").order_by("institution__code", "employee_no")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    districts = access.district_ids(user, Role.FINANCE_CENTER)
    if districts is None:
        return qs
    condition = (Q(institution_id__in=access.member_institution_ids(user, Role.INSTITUTION_FILER,
                                                                    Role.INSTITUTION_HEAD))
                 | Q(institution__district_id__in=districts) | Q(user_id=user.pk))
    return qs.filter(condition)


def summary_institutions(district) -> QuerySet:
    """The district's active institutions in the summary's order (pages take a slice of it)."""
    return Institution.objects.filter(district=district, is_active=True).order_by("code")


def summary(district, year: int, institutions=None) -> list[dict]:
    """Per institution of the district (or of `institutions`, a page of `summary_institutions`): stored
    counts by rule and status, overdue, review times and confirmed rate. No person, no transaction.

    Rows are read as values, not models (a province's district: 5,000 institutions); an institution
    without a stored row shares one dict of zeros per kind of count: the rows are read-only."""
    from . import rules

    if institutions is None:
        refs = list(summary_institutions(district).values_list("pk", "code", "name"))
    else:
        refs = [(i.pk, i.code, i.name) for i in institutions]
    stored_qs = InstitutionSummary.objects.filter(institution__district=district, year=year)
    if len(refs) < 1000:
        stored_qs = stored_qs.filter(institution_id__in=[pk for pk, _code, _name in refs])
    fields = ("institution_id", "by_rule", "by_status", "total", "overdue", "closed", "avg_review_days",
              "confirmed_rate")
    stored = {row["institution_id"]: row for row in stored_qs.values(*fields)}
    no_rules = {code: 0 for code in rules.RULES}
    no_statuses = {status: 0 for status in AlertStatus.values}
    out = []
    for pk, code, name in refs:
        s = stored.get(pk)
        out.append({
            "institution": {"code": code, "name": name},
            "district": district.code,
            "by_rule": s["by_rule"] if s else no_rules,
            "by_status": s["by_status"] if s else no_statuses,
            "total": s["total"] if s else 0,
            "overdue": s["overdue"] if s else 0,
            "closed": s["closed"] if s else 0,
            "avg_review_days": str(s["avg_review_days"]) if s and s["avg_review_days"] is not None else None,
            "confirmed_rate": str(s["confirmed_rate"]) if s and s["confirmed_rate"] is not None else None,
        })
    return out


def attention_first(institutions: QuerySet, year: int, limit: int) -> list:
    """The first `limit` of `institutions` (a queryset) by most overdue alerts, then most alerts, then
    code, as the dashboards' risk panel orders the summary, chosen in SQL (issue 16: the panel built
    and sorted 5,000 rows to show 20). Institutions without a stored row count as none."""
    stored = InstitutionSummary.objects.filter(institution__in=institutions, year=year)
    flagged = list(stored.filter(Q(overdue__gt=0) | Q(total__gt=0))
                   .order_by("-overdue", "-total", "institution__code")
                   .select_related("institution")[:limit])
    chosen = [s.institution for s in flagged]
    if len(chosen) < limit:  # then those without any alert, by code
        chosen += list(institutions.exclude(pk__in=stored.filter(Q(overdue__gt=0) | Q(total__gt=0))
                                            .values("institution_id"))
                       .order_by("code")[:limit - len(chosen)])
    return chosen


def summed(institutions: QuerySet, year: int) -> dict:
    """Over `institutions` (a queryset): alerts, overdue and closed, and the counts by status and by rule,
    summed in SQL over the stored rows (one query)."""
    from . import rules

    def total(path: str):
        return Coalesce(Sum(Cast(KT(path), IntegerField())), 0)

    statuses = {f"status_{s}": total(f"by_status__{s}") for s in AlertStatus.values}
    by_rule = {f"rule_{code}": total(f"by_rule__{code}") for code in rules.RULES}
    row = InstitutionSummary.objects.filter(institution__in=institutions, year=year).aggregate(
        total=Coalesce(Sum("total"), 0), overdue=Coalesce(Sum("overdue"), 0), closed=Coalesce(Sum("closed"), 0),
        **statuses, **by_rule)
    return {"total": row["total"], "overdue": row["overdue"], "closed": row["closed"],
            "by_status": {s: row[f"status_{s}"] for s in AlertStatus.values},
            "by_rule": {code: row[f"rule_{code}"] for code in rules.RULES}}


def district_totals(district, year: int) -> dict:
    """The district's totals (for dashboards and the annual report), summed in SQL over the stored rows."""
    figures = InstitutionSummary.objects.filter(
        institution__district=district, institution__is_active=True, year=year).aggregate(
        alerts=Coalesce(Sum("total"), 0), overdue=Coalesce(Sum("overdue"), 0), closed=Coalesce(Sum("closed"), 0),
        escalated=Coalesce(Sum(Cast(KT("by_status__escalated"), IntegerField())), 0))
    return {"institutions": summary_institutions(district).count(), **figures}
