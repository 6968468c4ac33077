"""`{% sheet_findings assessment indicator as found %}`: the year's findings on the indicator's
clause and their status, and a bonus item confirmed by a visit, for the scoring sheet (loaded once
per assessment and kept on it, so a sheet of many indicators costs two queries)."""

from django import template

from .. import selectors

register = template.Library()


@register.simple_tag
def sheet_findings(assessment, indicator) -> dict:
    cached = getattr(assessment, "_inspection_sheet", None)
    if cached is None:
        cached = (selectors.findings_by_clause(assessment.institution_id, assessment.year),
                  selectors.confirmed_bonuses(assessment.institution_id, assessment.year))
        assessment._inspection_sheet = cached
    by_clause, bonuses = cached
    clause = getattr(indicator, "clause", None)
    return {"findings": by_clause.get(clause.number, []) if clause is not None else [],
            "bonus": bonuses.get(indicator.pk)}
