"""Read queries for scoring: who sees which results and assessments."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from institutions import access
from institutions.models import Role

from .models import Assignment, Indicator, Result, SchemeStatus, ScoreSheet, SheetEntry, Source


def visible_results(user) -> QuerySet[Result]:
    qs = Result.objects.select_related("institution")
    if access.is_finance_center(user) or access.has_role(user, Role.CITY):
        return qs
    condition = Q(pk__in=[])
    if access.has_role(user, Role.API_CLIENT):
        condition |= Q(status=Result.Status.PUBLISHED)
    if access.has_role(user, Role.INSPECTOR, Role.THIRD_PARTY):
        assigned = Assignment.objects.filter(user=user).values("institution_id")
        condition |= Q(institution_id__in=assigned)
    if access.has_role(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD):
        own = access.institution_ids(user)
        if own:
            condition |= Q(institution_id__in=own)
    return qs.filter(condition)


def visible_sources(user, assessment) -> list[str]:
    """Which sheets of an assessment the user may read."""
    if access.is_finance_center(user):
        return list(Source.values)
    sources = set()
    if assessment.scheme.status in (SchemeStatus.NOTICE, SchemeStatus.PUBLISHED):
        sources |= set(Source.values)
    if access.has_role(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD):
        sources.add(Source.SELF)
    assigned = set(Assignment.objects.filter(user=user, institution_id=assessment.institution_id,
                                             year=assessment.year).values_list("source", flat=True))
    if assigned:
        sources |= assigned | {Source.SELF}  # reviewers see the institution's claim beside their own
    return [s for s in Source.values if s in sources]


def sheets_with_progress(assessment_ids) -> dict[int, list[dict]]:
    """Per assessment: each sheet's status and how many indicators are filled, in one query."""
    rows = (ScoreSheet.objects.filter(assessment_id__in=assessment_ids)
            .annotate(filled=Count("entries", filter=Q(entries__points__isnull=False)
                                    | Q(entries__hit__isnull=False)))
            .order_by("assessment_id", "source"))
    out: dict[int, list[dict]] = {}
    for sheet in rows:
        out.setdefault(sheet.assessment_id, []).append(sheet)
    return out


def indicators_with_entries(assessment, sources: list[str]):
    """The scheme's indicators, each with `by_source` {source: entry}, in two queries."""
    indicators = list(Indicator.objects.filter(scheme_id=assessment.scheme_id)
                      .select_related("clause__item").order_by("position", "code"))
    entries = (SheetEntry.objects.filter(sheet__assessment=assessment, sheet__source__in=sources)
               .select_related("sheet", "indicator").prefetch_related(Prefetch("evidence")))
    by_indicator: dict[int, dict[str, SheetEntry]] = {}
    for entry in entries:
        by_indicator.setdefault(entry.indicator_id, {})[entry.sheet.source] = entry
    for indicator in indicators:
        indicator.by_source = by_indicator.get(indicator.pk, {})
    return indicators
