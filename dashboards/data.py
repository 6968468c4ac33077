"""What each chart shows, as JSON-ready dicts (decimals as strings, like the rest of the API).

One source of truth: ranks are the stored `Result.rank` / `category_rank`, per-item points the
stored `Result.item_cents` (both written by scoring's aggregation), complaint statistics and
satisfaction are `complaints.selectors`'; nothing is ranked, weighted or re-counted here.

Two kinds of figures:

- results figures (colours, ranking, distribution, items, trend, the city's) change only when an
  aggregation writes results or a district's year goes into notice, is published or reopened: they
  are cached under `selectors.results_version` of the districts concerned and so recomputed exactly
  then (DASHBOARDS_RESULTS_CACHE_SECONDS, one day by default, is only a safety net);
- activity figures (complaints, satisfaction, staff violations, acknowledgements) change all day:
  they are never cached but read live, from the apps' own selectors and tallies.

Who sees which results (DOMAIN.md "Results are seen in stages") is the callers' to pass in: the
district figures are the district's finance center's (every stage); the city figures read published
results only; an institution's figures take the reader's visible results.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _lazy

from complaints import rules as complaint_rules
from institutions.models import District, Institution, InstitutionCategory
from scoring.models import Colour, ResultStatus
from staff_points.models import Module

from . import figures, selectors
from .selectors import Scope

KEY_PREFIX = "dashboards:v2"
TREND_YEARS = 6


def results_ttl() -> int:
    return int(getattr(settings, "DASHBOARDS_RESULTS_CACHE_SECONDS", 24 * 60 * 60))


def jsonable(value: Any) -> Any:
    """Decimals as plain strings ("96.00", "-30.0"), dates as ISO strings, lazy translations as text in
    the active language, containers recursively."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _key(name: str, parts: tuple, version: str = "") -> str:
    # The figures hold labels (colours, categories, statuses) in the reader's language: one entry per language.
    raw = ":".join(str(p) for p in parts)
    digest = hashlib.sha1(f"{raw}|{version}".encode(), usedforsecurity=False).hexdigest()[:20]
    return f"{KEY_PREFIX}:{name}:{get_language() or settings.LANGUAGE_CODE}:{digest}"


def cached(name: str, parts: tuple, compute: Callable[[], Any], *, version: str = "", ttl: int | None = None):
    key = _key(name, parts, version)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, ttl if ttl is not None else results_ttl())
    return value


def category_label(category: str) -> str:
    return str(InstitutionCategory(category).label) if category in InstitutionCategory.values else ""


def district_ref(district: District) -> dict:
    return {"code": district.code, "name": district.name}


@dataclass(frozen=True)
class DistrictQuery:
    """The district dashboard's filters: district, year and optional institution category."""

    district: District
    year: int
    category: str = ""

    @property
    def scope(self) -> Scope:
        return Scope(district_id=self.district.pk, category=self.category)

    @property
    def parts(self) -> tuple:
        return (self.district.pk, self.year, self.category)

    def head(self) -> dict:
        return {"district": district_ref(self.district), "year": self.year, "category": self.category,
                "category_label": category_label(self.category)}


def results_version_of(district_ids, *years: int) -> str:
    return selectors.results_version(district_ids, sorted(set(years)))


def _version(q: DistrictQuery, *years: int) -> str:
    return results_version_of([q.district.pk], *(years or (q.year,)))


# --- results figures ----------------------------------------------------------------------------


def _str(value) -> str | None:
    return None if value is None else format(value, "f")


def rank_text(rank: int | None, of: int | None) -> str:
    """"区内排名 x/y" as shown everywhere: the stored rank among the district's results that year."""
    return f"{rank}/{of}" if rank and of else "—"


def ranking_rows(q: DistrictQuery, version: str | None = None) -> list[dict]:
    """Every result of the district (and category) for the year, in the stored rank order, with the
    stored district and category ranks (x of y) and last year's total."""
    version = version or _version(q, q.year, q.year - 1)

    def compute() -> list[dict]:
        rows = selectors.results(q.scope, q.year)
        previous = selectors.totals_by_institution(q.scope, q.year - 1)
        counts = selectors.result_counts(q.district.pk, [q.year]).get(q.year, {"of": 0, "by_category": {}})
        # Labels resolved once, not per row: thousands of rows must not mean thousands of gettext calls.
        categories = {value: str(label) for value, label in InstitutionCategory.choices}
        statuses = {value: str(label) for value, label in ResultStatus.choices}
        colour_labels = {c: str(label) for c, label in figures.COLOUR_LABELS.items()}
        out = []
        for row in rows:
            before = previous.get(row["institution_id"])
            category_of = counts["by_category"].get(row["category"], 0)
            out.append({
                "rank": row["rank"], "of": counts["of"], "rank_text": rank_text(row["rank"], counts["of"]),
                "category_rank": row["category_rank"], "category_of": category_of,
                "institution_id": row["institution_id"],
                "code": row["institution__code"], "name": row["institution__name"],
                "short_name": row["institution__short_name"], "category": row["category"],
                "category_label": categories.get(row["category"], ""), "basic": _str(row["basic"]),
                "bonus": _str(row["bonus"]), "deduction": _str(row["deduction"]), "total": _str(row["total"]),
                "red_line": row["red_line"], "colour": row["colour"],
                "colour_label": colour_labels[row["colour"]], "status": row["status"],
                "status_label": statuses.get(row["status"], ""), "previous_total": _str(before),
                "change": _str(figures.difference(row["total"], before)),
            })
        return out

    return cached("ranking", q.parts, compute, version=version)


def colours(q: DistrictQuery, version: str | None = None) -> dict:
    """`version`: the ranking's (_version of the year and the year before), when the caller has it."""
    version = version or _version(q, q.year, q.year - 1)

    def compute() -> dict:
        rows = ranking_rows(q, version)
        counts = {c: 0 for c in figures.COLOURS}
        for row in rows:
            counts[row["colour"]] += 1
        totals = [Decimal(r["total"]) for r in rows]
        return jsonable({**q.head(), "institutions": len(rows), "colours": figures.colour_shares(counts),
                         "red_lines": sum(1 for r in rows if r["red_line"]), "mean_total": figures.mean(totals)})

    return cached("colours", q.parts, compute, version=version)


def distribution(q: DistrictQuery) -> dict:
    version = _version(q, q.year, q.year - 1)

    def compute() -> dict:
        rows = ranking_rows(q, version)
        bins = figures.score_distribution(Decimal(r["total"]) for r in rows)
        return jsonable({**q.head(), "institutions": len(rows), "bins": bins})

    return cached("distribution", q.parts, compute, version=version)


def items(q: DistrictQuery) -> dict:
    """Per item of the district's scheme: maximum, the institutions' average and best stored points."""
    version = _version(q)

    def compute() -> dict:
        scheme = selectors.scheme_of(q.district.pk, q.year)
        if scheme is None:
            return jsonable({**q.head(), "institutions": 0, "items": []})
        scores = selectors.item_scores(q.scope, q.year)
        n = scores["institutions"]
        out = []
        for item in selectors.item_maxima(scheme):
            got = scores["items"].get(item["number"], {})
            average = figures.mean_of_sum(got.get("sum"), got.get("n", 0))
            out.append({"number": item["number"], "title": item["title"], "maximum": item["maximum"],
                        "average": average, "best": got.get("best"),
                        "share": figures.item_share(average, item["maximum"])})
        return jsonable({**q.head(), "institutions": n, "items": out})

    return cached("items", q.parts, compute, version=version)


def trend(q: DistrictQuery) -> dict:
    """Year-on-year totals: each year's mean total, colours and red lines, and the change of the mean."""
    years = [y for y in selectors.result_years(q.scope) if y <= q.year][:TREND_YEARS]
    version = _version(q, *years) if years else ""

    def compute() -> dict:
        summary = selectors.yearly_summary(q.scope, years)
        out, previous_mean = [], None
        for year in sorted(years):
            entry = summary.get(year)
            if entry is None:
                continue
            n = entry["institutions"]
            mean_total = figures.mean_of_sum(entry["total_sum"], n)
            out.append({"year": year, "institutions": n, "mean_total": mean_total,
                        "change": figures.difference(mean_total, previous_mean),
                        "colours": figures.colour_shares(entry["colours"]), "red_lines": entry["red_lines"]})
            previous_mean = mean_total
        return jsonable({**q.head(), "years": out})

    return cached("trend", (*q.parts, tuple(years)), compute, version=version)


# --- activity figures ------------------------------------------------------------------------------

KIND_LABELS = {"rating": _lazy("评价"), "suggestion": _lazy("意见建议"), "complaint": _lazy("投诉"),
               "report": _lazy("举报")}
OUTCOME_LABELS = {"substantiated": _lazy("属实"), "partially_substantiated": _lazy("部分属实"),
                  "unsubstantiated": _lazy("不属实")}


def _institution_filter(scope: Scope):
    """What complaints' selectors take as `institution_ids`: the institution itself, or the scope's
    institutions as a subquery (never thousands of ids in Python)."""
    if scope.institution_id is not None:
        return frozenset({scope.institution_id})
    return scope.institutions()


def complaint_summary(scope: Scope, year: int) -> dict:
    """Counts, outcomes, substantiation rate and handling time from complaints' own statistics, and
    the month × kind series behind the stacked chart."""
    from complaints import selectors as complaint_selectors

    # The totals only: the per-institution table (a grouped query over every case, 0.5 s for a province)
    # and the satisfaction (its own panel) are not shown here; the month × kind series comes from the
    # same grouped scan as the totals.
    stats = complaint_selectors.statistics(year, institution_ids=_institution_filter(scope), per_institution=False,
                                           satisfaction=False)
    by_month_kind = stats.by_month_kind
    series = {k: [by_month_kind.get((month, k), 0) for month in range(1, 13)] for k in KIND_LABELS}
    return {
        "total": stats.total,
        "kinds": [{"kind": k, "label": str(label), "count": stats.by_kind.get(k, 0)}
                  for k, label in KIND_LABELS.items()],
        "months": list(range(1, 13)), "series": series, "concluded": stats.concluded,
        "outcomes": [{"outcome": o, "label": str(label), "count": stats.by_outcome.get(o, 0)}
                     for o, label in OUTCOME_LABELS.items()],
        "substantiation_rate": stats.substantiation_rate,
        "average_handling_days": stats.average_handling_days,
    }


def complaints(q: DistrictQuery) -> dict:
    return jsonable({**q.head(), **complaint_summary(q.scope, q.year)})


def satisfaction_months(scope: Scope, year: int, per: str = "") -> dict:
    """complaints.selectors.satisfaction_by_month for the scope (month → counts, or (id, month) → counts)."""
    from complaints import selectors as complaint_selectors

    return complaint_selectors.satisfaction_by_month(year, institution_ids=_institution_filter(scope), per=per)


def satisfaction_summary(scope: Scope, year: int, today: dt.date | None = None) -> dict:
    """Satisfaction by month for the year and the year before, and the year's change in points."""
    today = today or timezone.localdate()
    cut = figures.same_period_end(year, today)
    from complaints import selectors as complaint_selectors

    counts = complaint_selectors.satisfaction_by_year_and_month([year - 1, year],
                                                                institution_ids=_institution_filter(scope))
    empty = {"rated": 0, "satisfied": 0}
    months, totals = [], {year: [0, 0], year - 1: [0, 0]}
    for month in range(1, 13):
        now = counts[year].get(month, empty)
        before = counts[year - 1].get(month, empty)
        rate, previous_rate = (complaint_rules.satisfaction_rate(now["satisfied"], now["rated"]),
                               complaint_rules.satisfaction_rate(before["satisfied"], before["rated"]))
        months.append({"month": month, "rated": now["rated"], "satisfied": now["satisfied"], "rate": rate,
                       "previous_rated": before["rated"], "previous_rate": previous_rate,
                       "change": figures.points_change(rate, previous_rate)})
        for y, entry in ((year, now), (year - 1, before)):
            totals[y][0] += entry["satisfied"]
            totals[y][1] += entry["rated"]
    # A running year is compared with the same months of the year before (see figures.same_period_end);
    # satisfaction is counted by month, so the cut is at the end of the current month.
    if cut is not None:
        totals[year - 1] = [0, 0]
        for month in range(1, cut[0] + 1):
            before = counts[year - 1].get(month, empty)
            totals[year - 1][0] += before["satisfied"]
            totals[year - 1][1] += before["rated"]
    rate = complaint_rules.satisfaction_rate(*totals[year])
    previous_rate = complaint_rules.satisfaction_rate(*totals[year - 1])
    change = figures.points_change(rate, previous_rate)
    return {"previous_year": year - 1, "months": months, "rated": totals[year][1], "rate": rate,
            "previous_rated": totals[year - 1][1], "previous_rate": previous_rate, "change": change,
            "change_text": figures.signed(change), "same_period_to": f"{cut[0]:02d}-{cut[1]:02d}" if cut else None}


def satisfaction(q: DistrictQuery) -> dict:
    return jsonable({**q.head(), **satisfaction_summary(q.scope, q.year)})


def satisfaction_by_institution(scope: Scope, year: int, month: int | None, *, offset: int,
                                limit: int) -> tuple[int, list[dict]]:
    """Institutions' satisfaction in a year (or one month of it), lowest rate first: the rows behind the
    satisfaction chart, from complaints' per-institution counts."""
    if month and not 1 <= month <= 12:
        return 0, []
    per: dict[int, dict] = {}
    for (institution_id, m), counts in satisfaction_months(scope, year, per="institution").items():
        if month and m != month:
            continue
        entry = per.setdefault(institution_id, {"rated": 0, "satisfied": 0})
        entry["rated"] += counts["rated"]
        entry["satisfied"] += counts["satisfied"]
    ordered = sorted(((pk, c) for pk, c in per.items() if c["rated"]),
                     key=lambda kv: (kv[1]["satisfied"] / kv[1]["rated"], kv[0]))
    page = ordered[offset:offset + limit]
    names = {pk: (code, name) for pk, code, name in Institution.objects.filter(
        pk__in=[pk for pk, _ in page]).values_list("pk", "code", "name")}
    return len(ordered), [{"institution_id": pk, "code": names.get(pk, ("", ""))[0],
                           "name": names.get(pk, ("", ""))[1], **counts} for pk, counts in page]


def violation_summary(scope: Scope, year: int, today: dt.date | None = None) -> dict:
    """Staff violation cases (employees' deduction records) this year and last, by month and module."""
    today = today or timezone.localdate()
    cut = figures.same_period_end(year, today)
    raw = selectors.violation_counts(scope, [year - 1, year])
    per_month = {(y, m): 0 for y in (year - 1, year) for m in range(1, 13)}
    totals = {year: 0, year - 1: 0}
    for (y, m, d), n in raw["by_day"].items():
        per_month[(y, m)] += n
        if figures.in_period(dt.date(y, m, d), cut):
            totals[y] += n
    change = figures.relative_change(totals[year], totals[year - 1])
    modules = [{"module": m.value, "label": str(m.label), "count": raw["by_module"].get((year, m.value), 0),
                "previous": raw["by_module"].get((year - 1, m.value), 0)} for m in Module]
    return {"previous_year": year - 1,
            "months": [{"month": m, "count": per_month[(year, m)], "previous": per_month[(year - 1, m)]}
                       for m in range(1, 13)],
            "count": totals[year], "previous": totals[year - 1], "change": change,
            "change_text": figures.signed(change, "%"), "modules": modules,
            "same_period_to": f"{cut[0]:02d}-{cut[1]:02d}" if cut else None}


def violations(q: DistrictQuery) -> dict:
    return jsonable({**q.head(), **violation_summary(q.scope, q.year)})


def _rate(part: int, whole: int) -> Decimal | None:
    return figures.percent(part, whole)


def acknowledgement_summary(scope: Scope, year: int) -> dict:
    from warnings_feed.selectors import masked_titles

    raw = selectors.acknowledgement_figures(scope, year)
    total = raw["total"]
    warnings = []
    titles = masked_titles([w["pk"] for w in raw["recent"]])  # names masked, the registry's included
    for w in raw["recent"]:
        rates = raw["per_warning"].get(w["pk"], {"delivered": 0, "acknowledged": 0})
        warnings.append({"id": w["pk"], "title": titles.get(w["pk"], ""),
                         "publish_at": timezone.localtime(w["publish_at"]).date(), "delivered": rates["delivered"],
                         "acknowledged": rates["acknowledged"],
                         "acknowledged_rate": _rate(rates["acknowledged"], rates["delivered"])})
    categories = [{"category": r["institution__category"], "label": category_label(r["institution__category"]),
                   "delivered": r["delivered"], "acknowledged": r["acknowledged"],
                   "acknowledged_rate": _rate(r["acknowledged"], r["delivered"]),
                   "read_rate": _rate(r["read"], r["delivered"])} for r in raw["by_category"]]
    return {"delivered": total["delivered"], "read": total["read"], "acknowledged": total["acknowledged"],
            "acknowledged_on_time": total["on_time"], "read_rate": _rate(total["read"], total["delivered"]),
            "acknowledged_rate": _rate(total["acknowledged"], total["delivered"]),
            "on_time_rate": _rate(total["on_time"], total["delivered"]), "warnings": warnings,
            "categories": categories}


def acknowledgements(q: DistrictQuery) -> dict:
    return jsonable({**q.head(), **acknowledgement_summary(q.scope, q.year)})


# --- the programme's stored figures: rectifications, trainings, risk alerts ---------------------
# Activity figures (never cached): each app keeps them stored (inspections' RectificationTally,
# activities' TrainingHours, risk's InstitutionSummary) and offers them through its selectors;
# nothing is recounted here from findings, attendance or alerts.


def _district_institutions(scope: Scope) -> list[tuple[int, str, str]]:
    """(id, code, name) of the scope's active institutions, by code (one query)."""
    return list(Institution.objects.filter(scope.q(""), is_active=True).order_by("code")
                .values_list("pk", "code", "name"))


def _on_time(row: dict) -> dict:
    from inspections import rules as inspection_rules

    return {**row, "on_time_rate": inspection_rules.on_time_rate(row["closed_on_time"], row["closed"] + row["overdue"])}


RECTIFICATION_FIGURES = ("total", "open", "reported", "overdue", "closed", "closed_on_time")


def rectification_summary(district_id: int, year: int, institution_ids=None) -> dict:
    """Open, awaiting review, overdue, closed and closed on time (the rate: closed on time over those
    closed or overdue, inspections' rule), per institution and per clause, from inspections' stored
    tallies (two grouped queries)."""
    from inspections import selectors as inspection_selectors

    def pick(row: dict) -> dict:
        return {k: row.get(k) or 0 for k in RECTIFICATION_FIGURES}

    institutions = [_on_time({"code": r["code"], "name": r["name"], **pick(r)}) for r in
                    inspection_selectors.tally_by_institution(district_id, year, institution_ids=institution_ids)]
    clauses = [_on_time({"clause": r["clause"], **pick(r)}) for r in
               inspection_selectors.tally_by_clause(district_id, year, institution_ids=institution_ids)]
    total = _on_time({k: sum(r[k] for r in institutions) for k in RECTIFICATION_FIGURES})
    return {**total, "institutions": institutions, "clauses": clauses}


def rectifications(q: DistrictQuery) -> dict:
    ids = q.scope.institutions() if q.category else None
    return jsonable({**q.head(), **rectification_summary(q.district.pk, q.year, ids)})


def training_summary(institutions: list[tuple[int, str, str]], year: int, among=None) -> dict:
    """Each institution's active employees, how many reached the year's required training hours and
    the rate, from activities' stored yearly hours (two grouped queries). `among`: a subquery of ids
    holding the institutions (the scope's)."""
    from activities import selectors as activity_selectors

    stored = activity_selectors.institution_completion([pk for pk, _, _ in institutions], year, among=among)
    rows = []
    for pk, code, name in institutions:
        c = stored[pk]
        rows.append({"code": code, "name": name, "employees": c.employees, "completed": c.completed,
                     "rate": c.rate, "hours": c.hours})
    employees = sum(r["employees"] for r in rows)
    completed = sum(r["completed"] for r in rows)
    return {"required_hours": activity_selectors.required_hours(), "employees": employees, "completed": completed,
            "rate": _rate(completed, employees), "institutions": rows}


def trainings(q: DistrictQuery) -> dict:
    return jsonable({**q.head(), **training_summary(_district_institutions(q.scope), q.year,
                                                    among=q.scope.institutions())})


def trainings_panel(q: DistrictQuery, limit: int) -> dict:
    """The district page's trainings panel: `trainings`' totals, and of its institutions only the `limit`
    that most need attention (lowest rate, no employees last, then most employees, then code) with their
    count — chosen and summed in SQL, the same figures as `trainings` sorted and cut (issue 16: `trainings`
    builds every institution's row, 0.4–1 s for a province; now one query, 0.13–0.24 s)."""
    from activities import selectors as activity_selectors

    institutions = Institution.objects.filter(q.scope.q(""), is_active=True)
    chosen, sums = activity_selectors.completion_attention_first(institutions, q.year, limit)
    shown = training_summary(chosen, q.year)["institutions"] if chosen else []
    return jsonable({**q.head(), "required_hours": activity_selectors.required_hours(),
                     "employees": sums["employees"], "completed": sums["completed"],
                     "rate": _rate(sums["completed"], sums["employees"]),
                     "institutions": shown, "institutions_count": sums["institutions"]})


def _fraction_percent(value) -> Decimal | None:
    """risk's stored rate (a fraction, "0.6667") as a percent with one decimal."""
    if value in (None, ""):
        return None
    return figures.percent(Decimal(str(value)), 1)


def risk_summary(district: District, year: int, codes: set[str] | None = None, institutions=None) -> dict:
    """Per institution of the district: alerts by status and rule, overdue, average review days and
    the confirmed rate, from risk's stored summary (counts only: no person, no transaction). For the
    district's finance center only (RISK.md)."""
    from risk import rules as risk_rules
    from risk import selectors as risk_selectors
    from risk.models import AlertStatus

    statuses = [(value, str(label)) for value, label in AlertStatus.choices]
    rule_titles = [(code, gettext(rule.title)) for code, rule in risk_rules.RULES.items()]
    rows = []
    by_status = dict.fromkeys((value for value, _label in statuses), 0)
    by_rule = dict.fromkeys((code for code, _title in rule_titles), 0)
    total = overdue = closed = 0
    for r in risk_selectors.summary(district, year, institutions):
        if codes is not None and r["institution"]["code"] not in codes:
            continue
        counts_by_status, counts_by_rule = r["by_status"], r["by_rule"]
        rows.append({"code": r["institution"]["code"], "name": r["institution"]["name"], "total": r["total"],
                     "by_status": [{"status": value, "label": label, "count": counts_by_status.get(value, 0)}
                                   for value, label in statuses],
                     "by_rule": [{"rule": code, "title": title, "count": counts_by_rule.get(code, 0)}
                                 for code, title in rule_titles],
                     "overdue": r["overdue"], "closed": r["closed"],
                     "avg_review_days": r["avg_review_days"],
                     # JSON-ready already (a string, as jsonable makes a Decimal): a province's rows are not
                     # walked again
                     "confirmed_rate": _str(_fraction_percent(r["confirmed_rate"]))})
        # the district's totals in the same pass (was one pass per status and rule over every row)
        for value in by_status:
            by_status[value] += counts_by_status.get(value, 0)
        for code in by_rule:
            by_rule[code] += counts_by_rule.get(code, 0)
        total, overdue, closed = total + r["total"], overdue + r["overdue"], closed + r["closed"]
    confirmed = by_status.get(AlertStatus.CONFIRMED, 0) + by_status.get(AlertStatus.ESCALATED, 0)
    return {"total": total, "overdue": overdue, "closed": closed,
            "confirmed_rate": _rate(confirmed, closed),
            "by_status": [{"status": value, "label": label, "count": by_status[value]} for value, label in statuses],
            "by_rule": [{"rule": code, "title": title, "count": by_rule[code]} for code, title in rule_titles],
            "institutions": rows}


def risk_panel(q: DistrictQuery, limit: int) -> dict:
    """The district page's risk panel: `risk`'s totals, and of its institutions only the `limit` that most
    need attention (most overdue, most alerts, code) with their count — chosen and summed in SQL, the same
    figures as `risk` sorted and cut (issue 16: `risk` builds every institution's row, 2–3 s for a province)."""
    from risk import rules as risk_rules
    from risk import selectors as risk_selectors
    from risk.models import AlertStatus

    institutions = Institution.objects.filter(q.scope.q(""), is_active=True)
    chosen = risk_selectors.attention_first(institutions, q.year, limit)
    shown = risk_summary(q.district, q.year, institutions=chosen)["institutions"] if chosen else []
    order = {i.code: n for n, i in enumerate(chosen)}
    sums = risk_selectors.summed(institutions, q.year)
    statuses = [(value, str(label)) for value, label in AlertStatus.choices]
    confirmed = sums["by_status"].get(AlertStatus.CONFIRMED, 0) + sums["by_status"].get(AlertStatus.ESCALATED, 0)
    return jsonable({
        **q.head(), "total": sums["total"], "overdue": sums["overdue"], "closed": sums["closed"],
        "confirmed_rate": _rate(confirmed, sums["closed"]),
        "by_status": [{"status": value, "label": label, "count": sums["by_status"][value]}
                      for value, label in statuses],
        "by_rule": [{"rule": code, "title": gettext(rule.title), "count": sums["by_rule"][code]}
                    for code, rule in risk_rules.RULES.items()],
        "institutions": sorted(shown, key=lambda r: order[r["code"]]), "institutions_count": institutions.count()})


def risk(q: DistrictQuery) -> dict:
    codes = {code for _pk, code, _name in _district_institutions(q.scope)} if q.category else None
    summary = risk_summary(q.district, q.year, codes)
    rows = summary.pop("institutions")  # JSON-ready as made (risk's stored strings, counts, labels)
    return {**jsonable({**q.head(), **summary}), "institutions": rows}


DISTRICT_FIGURES: dict[str, Callable[[DistrictQuery], dict]] = {
    "colours": colours, "distribution": distribution, "items": items, "trend": trend,
    "complaints": complaints, "satisfaction": satisfaction, "violations": violations,
    "acknowledgements": acknowledgements, "rectifications": rectifications, "trainings": trainings, "risk": risk,
}
RESULTS_FIGURES = ("colours", "distribution", "items", "trend")


# --- one institution -----------------------------------------------------------------------------------


def institution_ref(institution: Institution) -> dict:
    return {"code": institution.code, "name": institution.name, "category": institution.category,
            "category_label": category_label(institution.category), "district": district_ref(institution.district)}


@dataclass(frozen=True)
class InstitutionView:
    """An institution as one reader sees it: `results` are the reader's visible results
    (scoring.selectors.visible_results), `district_wide` whether the reader is the district's finance
    center (who also sees the district's figures at every stage)."""

    institution: Institution
    results: QuerySet
    district_wide: bool


def institution_years(view: InstitutionView) -> list[dict]:
    """Its results the reader may see, by year: total, colour, stored rank x/y and category rank."""
    out, previous = [], None
    for row in selectors.institution_results(view.results, view.institution.pk):
        out.append({"year": row["year"], "total": row["total"], "colour": row["colour"],
                    "colour_label": str(figures.COLOUR_LABELS[row["colour"]]), "red_line": row["red_line"],
                    "rank": row["rank"], "of": row["of"], "rank_text": rank_text(row["rank"], row["of"]),
                    "category_rank": row["category_rank"], "category_of": row["category_of"],
                    "status": row["status"],
                    "change": figures.difference(row["total"], previous["total"]) if previous and
                    previous["year"] == row["year"] - 1 else None})
        previous = row
    return out


def institution_history(view: InstitutionView) -> dict:
    return jsonable({"institution": institution_ref(view.institution), "years": institution_years(view)})


def institution_items(view: InstitutionView, year: int, years: list[dict] | None = None) -> dict:
    """Its stored points on each item (once the reader may see its result), against the district's
    average and best (for its head only once the district's year is published)."""
    institution = view.institution
    scheme = selectors.scheme_of(institution.district_id, year)
    head = {"institution": institution_ref(institution), "year": year}
    if scheme is None:
        return jsonable({**head, "items": []})
    shown = next((y for y in (years if years is not None else institution_years(view)) if y["year"] == year), None)
    own = selectors.own_item_points(institution.pk, year) if shown is not None else {}
    district_shown = view.district_wide or (shown is not None and shown["status"] == ResultStatus.PUBLISHED)
    district = items(DistrictQuery(institution.district, year)) if district_shown else None
    by_number = {i["number"]: i for i in district["items"]} if district else {}
    out = []
    for item in district["items"] if district else selectors.item_maxima(scheme):
        figure = by_number.get(item["number"], {})
        out.append({"number": item["number"], "title": item["title"], "maximum": item["maximum"],
                    "own": own.get(item["number"]), "average": figure.get("average"), "best": figure.get("best")})
    return jsonable({**head, "items": out})


def institution_complaints(view: InstitutionView, year: int) -> dict:
    scope = Scope(institution_id=view.institution.pk)
    return jsonable({"institution": institution_ref(view.institution), "year": year,
                     "complaints": complaint_summary(scope, year), "satisfaction": satisfaction_summary(scope, year)})


def institution_employees(view: InstitutionView, year: int) -> dict:
    """Its employees' colour distribution and its acknowledgement rate (aggregates only)."""
    institution = view.institution
    counts = selectors.employee_colours(institution.pk, year)
    ack = acknowledgement_summary(Scope(institution_id=institution.pk), year)
    return jsonable({"institution": institution_ref(institution), "year": year,
                     "employees": sum(counts.values()), "colours": figures.colour_shares(counts),
                     "acknowledgements": {k: ack[k] for k in (
                         "delivered", "read", "acknowledged", "acknowledged_on_time", "read_rate",
                         "acknowledged_rate", "on_time_rate", "warnings")}})


def institution_programme(view: InstitutionView, year: int) -> dict:
    """Its own rectifications (per clause, from inspections' stored tallies) and its employees'
    training completion (activities' stored hours): the institution's figures only."""
    institution = view.institution
    rect = rectification_summary(institution.district_id, year, [institution.pk])
    training = training_summary([(institution.pk, institution.code, institution.name)], year)
    return jsonable({"institution": institution_ref(institution), "year": year,
                     "rectifications": {k: v for k, v in rect.items() if k != "institutions"},
                     "trainings": {k: v for k, v in training.items() if k != "institutions"}})

INSTITUTION_FIGURES: dict[str, Callable[..., dict]] = {
    "items": institution_items, "complaints": institution_complaints, "employees": institution_employees,
    "programme": institution_programme,
}


# --- the city: published results and aggregates of the districts a city user reads -------------------


@dataclass(frozen=True)
class CityQuery:
    city: District
    year: int
    district_ids: tuple[int, ...] | None = None  # None: every district of the city (the administrator)

    @property
    def scope(self) -> Scope:
        return Scope(city_id=self.city.pk, district_ids=self.district_ids)

    def districts(self) -> list[District]:
        children = [d for d in selectors.district_ids_with_institutions(self.district_ids)
                    if d.parent_id == self.city.pk]
        return children

    def version(self, years: list[int]) -> str:
        ids = [d.pk for d in self.districts()] if self.district_ids is None else self.district_ids
        return results_version_of(ids, *years) if years else ""


def _received_by_district(q: CityQuery, year: int) -> dict[int, int]:
    """district id -> complaints received in the year, from complaints' monthly tallies."""
    from complaints import selectors as complaint_selectors

    return complaint_selectors.cases_by_district(year, institution_ids=q.scope.institutions())


def city_weights(q: CityQuery) -> dict[str, Decimal]:
    """The city's index weights (CityIndexWeights, edited on /scoring/city/; the defaults without)."""
    from scoring import selectors as scoring_selectors

    return scoring_selectors.city_weights(q.city)


def city_rows(q: CityQuery, years: list[int], *, with_received: bool = False,
              weights: dict[str, Decimal] | None = None) -> dict[tuple[int, int], dict]:
    """(district id, year) -> the district's figures for every district the reader reads: its published
    results' aggregates and index (None until the district's year is published), its complaints
    received (`with_received`) and satisfaction (aggregate statistics, shown at any time)."""
    summary = selectors.summary_by_district(q.scope, years)
    weights = weights if weights is not None else city_weights(q)
    received = {year: _received_by_district(q, year) for year in years} if with_received else {}
    sat_totals: dict[tuple[int, int], list[int]] = {}
    for year in years:
        for (district_id, _month), entry in satisfaction_months(q.scope, year, per="district").items():
            acc = sat_totals.setdefault((district_id, year), [0, 0])
            acc[0] += entry["satisfied"]
            acc[1] += entry["rated"]
    out = {}
    for district in q.districts():
        for year in years:
            satisfied, rated = sat_totals.get((district.pk, year), (0, 0))
            count = received.get(year, {}).get(district.pk, 0) if with_received else None
            row = {"published": False, "institutions": 0, "mean_total": None, "colours": None, "red_lines": None,
                   "complaints": count, "complaints_per_institution": None, "substantiated": None,
                   "partially_substantiated": None,
                   "satisfaction_rate": complaint_rules.satisfaction_rate(satisfied, rated),
                   "index": None, "components": None}
            entry = summary.get((district.pk, year))
            if entry is not None:
                full, partial = entry["substantiated"], entry["partially"]
                index = figures.city_index(figures.DistrictYear(
                    institutions=entry["institutions"], total_sum=entry["total_sum"], colours=entry["colours"],
                    red_lines=entry["red_lines"], substantiated=full, partially=partial), weights)
                row.update({
                    "published": True, "institutions": entry["institutions"], "mean_total": index.mean_total,
                    "colours": figures.colour_shares(entry["colours"]), "red_lines": entry["red_lines"],
                    "complaints_per_institution": figures.mean_of_sum(count, entry["institutions"])
                    if count is not None else None,
                    "substantiated": full, "partially_substantiated": partial, "index": index.index,
                    "components": {"score": index.score, "colour": index.colour, "red_line": index.red_line,
                                   "complaints": index.complaints}})
            out[(district.pk, year)] = row
    return out


def city_league(q: CityQuery) -> dict:
    """The user's districts of the city side by side for one year, ranked by the clean-finance index
    (published results only; a district not yet published has no index)."""
    version = q.version([q.year])
    weights = city_weights(q)

    def compute() -> dict:
        rows = city_rows(q, [q.year], with_received=True, weights=weights)
        league = []
        for district in q.districts():
            league.append({"district": district_ref(district), **rows[(district.pk, q.year)]})
        ranks = figures.league_ranks([r["index"] for r in league])
        for row, rank in zip(league, ranks, strict=True):
            row["rank"] = rank
        league.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["district"]["code"]))
        return jsonable({"city": district_ref(q.city), "year": q.year, "weights": weights, "districts": league})

    return cached("city-league", (q.city.pk, q.district_ids, q.year, timezone.localdate(), _weights_key(weights)),
                  compute, version=version)


def city_trend(q: CityQuery) -> dict:
    """Each district's index over the recent published years up to `year`."""
    years = sorted(y for y in selectors.result_years(q.scope, published=True) if y <= q.year)[-TREND_YEARS:]
    version = q.version(years)
    weights = city_weights(q)

    def compute() -> dict:
        rows = city_rows(q, years, weights=weights) if years else {}
        series = [{"district": district_ref(d), "index": [rows.get((d.pk, y), {}).get("index") for y in years],
                   "mean_total": [rows.get((d.pk, y), {}).get("mean_total") for y in years]} for d in q.districts()]
        return jsonable({"city": district_ref(q.city), "years": years, "series": series})

    return cached("city-trend", (q.city.pk, q.district_ids, tuple(years), timezone.localdate(), _weights_key(weights)),
                  compute, version=version)


def _weights_key(weights: dict[str, Decimal]) -> str:
    """Changing the city's weights changes the cached league and trend (no stale index after an edit)."""
    return ",".join(f"{k}={format(weights[k].normalize(), 'f')}" for k in sorted(weights))


# --- choices for the pages ----------------------------------------------------------------------------


def default_year(scope: Scope, *, published: bool = False) -> int | None:
    years = selectors.result_years(scope, published=published)
    if years:
        return years[0]
    schemes = selectors.scheme_years(scope.district_id)
    return schemes[0] if schemes else None


COLOUR_CHOICES = Colour.choices
