"""`{% sheet_findings assessment indicator as found %}`: the year's findings on the indicator's
clause and their status, a bonus item confirmed by a visit and, beside a bonus indicator, the
institution's showcases (样板) of the year, for the scoring sheet (loaded once per assessment and kept
on it, so a sheet of many indicators costs three queries)."""

from django import template

from activities import selectors as activities
from scoring.models import IndicatorKind

from .. import selectors

register = template.Library()


@register.simple_tag
def sheet_findings(assessment, indicator) -> dict:
    cached = getattr(assessment, "_inspection_sheet", None)
    if cached is None:
        cached = (selectors.findings_by_clause(assessment.institution_id, assessment.year),
                  selectors.confirmed_bonuses(assessment.institution_id, assessment.year),
                  activities.showcases_by_clause(assessment.institution_id, assessment.year))
        assessment._inspection_sheet = cached
    by_clause, bonuses, showcases = cached
    clause = getattr(indicator, "clause", None)
    number = clause.number if clause is not None else None
    # A bonus indicator also shows the district's showcases (样板) of the institution on its clause
    # (or on no clause), which can feed it (issue #14, item 3).
    # (on its clause and on none; a bonus indicator tied to no clause: every showcase of the year).
    shown = []
    if indicator.kind == IndicatorKind.BONUS:
        keys = [number, ""] if number is not None else list(showcases)
        shown = list(dict.fromkeys(t for key in keys for t in showcases.get(key, [])))
    return {"findings": by_clause.get(number, []) if number is not None else [],
            "bonus": bonuses.get(indicator.pk), "showcases": shown}
