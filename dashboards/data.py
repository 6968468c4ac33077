"""What each chart shows, as JSON-ready dicts (decimals as strings, like the rest of the API).

Two kinds of figures:

- results figures (colours, ranking, distribution, items, trend, history, city index) change only
  when an aggregation writes results or a year is published or reopened: they are cached under
  `selectors.results_version` and so recomputed exactly then (DASHBOARDS_RESULTS_CACHE_SECONDS,
  one day by default, is only a safety net); the per-item scores behind the items charts are also
  kept in a summary table (models.ItemScore) written once per results version;
- activity figures (complaints, satisfaction, staff violations, acknowledgements) change all day:
  they are never cached but read live, from grouped queries over the cases and from tallies kept
  exact by the services that write them (complaints.SatisfactionTally for questionnaire answers,
  warnings_feed.DeliveryTally for acknowledgements).
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
from django.db import transaction
from django.utils import timezone

from complaints import rules as complaint_rules
from institutions.models import District, Institution, InstitutionCategory
from scoring.models import Colour, ResultStatus
from staff_points.models import Module

from . import figures, selectors
from .selectors import Scope

KEY_PREFIX = "dashboards:v1"
TREND_YEARS = 6


def results_ttl() -> int:
    return int(getattr(settings, "DASHBOARDS_RESULTS_CACHE_SECONDS", 24 * 60 * 60))


def jsonable(value: Any) -> Any:
    """Decimals as plain strings ("96.00", "-30.0"), dates as ISO strings, containers recursively."""
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
    raw = ":".join(str(p) for p in parts)
    digest = hashlib.sha1(f"{raw}|{version}".encode(), usedforsecurity=False).hexdigest()[:20]
    return f"{KEY_PREFIX}:{name}:{digest}"


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


def _version(*years: int) -> str:
    return selectors.results_version(sorted(set(years)))


def results_version_of(*years: int) -> str:
    return _version(*years)


# --- results figures ----------------------------------------------------------------------------


def _str(value) -> str | None:
    return None if value is None else format(value, "f")


def ranking_rows(q: DistrictQuery, version: str | None = None) -> list[dict]:
    """Every result of the district (and category) for the year, ranked within it, with last year's total."""
    version = version or _version(q.year, q.year - 1)

    def compute() -> list[dict]:
        rows = selectors.results(q.scope, q.year)
        previous = selectors.totals_by_institution(q.scope, q.year - 1)
        ranks = figures.district_ranks([(r["red_line"], r["total"]) for r in rows])
        by_category: dict[str, list[int]] = {}
        for index, row in enumerate(rows):
            by_category.setdefault(row["category"], []).append(index)
        category_ranks = [0] * len(rows)
        for indexes in by_category.values():
            for index, rank in zip(indexes, figures.district_ranks(
                    [(rows[i]["red_line"], rows[i]["total"]) for i in indexes]), strict=True):
                category_ranks[index] = rank
        # Labels resolved once, not per row: thousands of rows must not mean thousands of gettext calls.
        categories = {value: str(label) for value, label in InstitutionCategory.choices}
        statuses = {value: str(label) for value, label in ResultStatus.choices}
        out = []
        for row, rank, category_rank in zip(rows, ranks, category_ranks, strict=True):
            before = previous.get(row["institution_id"])
            out.append({
                "rank": rank, "category_rank": category_rank, "institution_id": row["institution_id"],
                "code": row["institution__code"], "name": row["institution__name"],
                "short_name": row["institution__short_name"], "category": row["category"],
                "category_label": categories.get(row["category"], ""), "basic": _str(row["basic"]),
                "bonus": _str(row["bonus"]), "deduction": _str(row["deduction"]), "total": _str(row["total"]),
                "red_line": row["red_line"], "colour": row["colour"],
                "colour_label": figures.COLOUR_LABELS[row["colour"]], "status": row["status"],
                "status_label": statuses.get(row["status"], ""), "previous_total": _str(before),
                "change": _str(figures.difference(row["total"], before)),
            })
        out.sort(key=lambda r: (r["rank"], r["code"]))
        return out

    return cached("ranking", q.parts, compute, version=version)


def colours(q: DistrictQuery) -> dict:
    version = _version(q.year, q.year - 1)

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
    version = _version(q.year, q.year - 1)

    def compute() -> dict:
        rows = ranking_rows(q, version)
        bins = figures.score_distribution(Decimal(r["total"]) for r in rows)
        return jsonable({**q.head(), "institutions": len(rows), "bins": bins})

    return cached("distribution", q.parts, compute, version=version)


def item_summary_ready(year: int, version: str) -> bool:
    """Whether the per-item summary (models.ItemScore) reflects these results.

    When it does not (an aggregation or a publish just committed and its refresh has not run yet)
    the caller computes from the entries, and a refresh is queued, at most once a minute per year.
    Without a Celery worker (tasks run in process) nothing is queued: a reader must not pay for the
    whole district's refresh, and the small installations that run so compute from the entries.
    """
    if selectors.item_summary_is_current(year, version):
        return True
    if not settings.CELERY_TASK_ALWAYS_EAGER and cache.add(f"{KEY_PREFIX}:item-refresh:{year}", 1, 60):
        from .tasks import refresh_item_scores

        transaction.on_commit(lambda: refresh_item_scores.delay(year))
    return False


def items(q: DistrictQuery) -> dict:
    version = _version(q.year)

    def compute() -> dict:
        scheme = selectors.scheme_for(q.year)
        if scheme is None:
            return jsonable({**q.head(), "institutions": 0, "items": []})
        indicators = selectors.basic_indicators(scheme)
        scores = selectors.item_scores(scheme, q.scope, indicators=indicators,
                                       from_summary=item_summary_ready(q.year, version))
        n = scores["institutions"]
        out = []
        for item in selectors.item_maxima(scheme, indicators):
            got = scores["items"].get(item["number"], {})
            average = figures.mean_of_sum(got.get("sum"), n)
            best = got.get("best")
            out.append({"number": item["number"], "title": item["title"], "maximum": item["maximum"],
                        "average": average, "best": None if best is None else figures._q(best, figures._CENT),
                        "share": figures.item_share(average, item["maximum"])})
        return jsonable({**q.head(), "institutions": n, "items": out})

    return cached("items", q.parts, compute, version=version)


def trend(q: DistrictQuery) -> dict:
    """Year-on-year totals: each year's mean total, colours and red lines, and the change of the mean."""
    years = [y for y in selectors.result_years(q.scope) if y <= q.year][:TREND_YEARS]
    version = _version(*years) if years else ""

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

KIND_LABELS = {"rating": "评价", "suggestion": "意见建议", "complaint": "投诉", "report": "举报"}
OUTCOME_LABELS = {"substantiated": "属实", "partially_substantiated": "部分属实", "unsubstantiated": "不属实"}


def complaint_summary(scope: Scope, year: int) -> dict:
    raw = selectors.complaint_figures(scope, year)
    by_kind = {k: 0 for k in KIND_LABELS}
    series = {k: [0] * 12 for k in KIND_LABELS}
    for (month, kind), n in raw["by_month_kind"].items():
        if kind in series and month:
            series[kind][month - 1] += n
            by_kind[kind] += n
    outcomes = raw["by_outcome"]
    concluded = sum(outcomes.values())
    handling = (figures.mean_of_sum(raw["handling_days"], raw["handled"], places=1) if raw["handled"] else None)
    return {
        "total": sum(by_kind.values()),
        "kinds": [{"kind": k, "label": label, "count": by_kind[k]} for k, label in KIND_LABELS.items()],
        "months": list(range(1, 13)), "series": series, "concluded": concluded,
        "outcomes": [{"outcome": o, "label": label, "count": outcomes.get(o, 0)}
                     for o, label in OUTCOME_LABELS.items()],
        "substantiation_rate": complaint_rules.substantiation_rate(
            outcomes.get("substantiated", 0), outcomes.get("partially_substantiated", 0), concluded),
        "average_handling_days": handling,
    }


def complaints(q: DistrictQuery) -> dict:
    return jsonable({**q.head(), **complaint_summary(q.scope, q.year)})


def satisfaction_summary(scope: Scope, year: int, today: dt.date | None = None) -> dict:
    """Satisfaction by month for the year and the year before, and the year's change in points."""
    today = today or timezone.localdate()
    cut = figures.same_period_end(year, today)
    counts = selectors.satisfaction_counts(scope, [year - 1, year])
    months, totals = [], {year: [0, 0], year - 1: [0, 0]}
    for month in range(1, 13):
        now = counts.get((year, month), {"rated": 0, "satisfied": 0})
        before = counts.get((year - 1, month), {"rated": 0, "satisfied": 0})
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
            before = counts.get((year - 1, month), {"rated": 0, "satisfied": 0})
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
    from warnings_feed.rules import shown_text

    raw = selectors.acknowledgement_figures(scope, year)
    total = raw["total"]
    warnings = []
    for w in raw["recent"]:
        rates = raw["per_warning"].get(w["pk"], {"delivered": 0, "acknowledged": 0})
        warnings.append({"id": w["pk"], "title": shown_text(w["title"], w["names"] or (), reveal_names=False),
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


DISTRICT_FIGURES: dict[str, Callable[[DistrictQuery], dict]] = {
    "colours": colours, "distribution": distribution, "items": items, "trend": trend,
    "complaints": complaints, "satisfaction": satisfaction, "violations": violations,
    "acknowledgements": acknowledgements,
}


# --- one institution -----------------------------------------------------------------------------------


def institution_ref(institution: Institution) -> dict:
    return {"code": institution.code, "name": institution.name, "category": institution.category,
            "category_label": category_label(institution.category), "district": district_ref(institution.district)}


def institution_history(institution: Institution) -> dict:
    """Its total, colour and district rank in every year with a result (cached with the results)."""
    def compute() -> dict:
        out, previous = [], None
        for row in selectors.institution_ranks(institution.pk, institution.district_id):
            out.append({"year": row["year"], "total": row["total"], "colour": row["colour"],
                        "colour_label": figures.COLOUR_LABELS[row["colour"]], "red_line": row["red_line"],
                        "rank": row["rank"], "of": row["of"], "category_rank": row["category_rank"],
                        "status": row["status"],
                        "change": figures.difference(row["total"], previous["total"]) if previous and
                        previous["year"] == row["year"] - 1 else None})
            previous = row
        return jsonable({"institution": institution_ref(institution), "years": out})

    years = selectors.result_years(Scope(institution_id=institution.pk))
    return cached("institution-history", (institution.pk,), compute, version=_version(*years) if years else "")


def institution_items(institution: Institution, year: int) -> dict:
    """Its weighted score on each item against the district's average and best."""
    version = _version(year)

    def compute() -> dict:
        scheme = selectors.scheme_for(year)
        if scheme is None:
            return jsonable({"institution": institution_ref(institution), "year": year, "items": []})
        indicators = selectors.basic_indicators(scheme)
        scores = selectors.item_scores(scheme, Scope(district_id=institution.district_id), institution.pk,
                                       indicators=indicators, from_summary=item_summary_ready(year, version))
        n = scores["institutions"]
        out = []
        for item in selectors.item_maxima(scheme, indicators):
            got = scores["items"].get(item["number"], {})
            own, best = got.get("own"), got.get("best")
            out.append({"number": item["number"], "title": item["title"], "maximum": item["maximum"],
                        "own": None if own is None else figures._q(own, figures._CENT),
                        "average": figures.mean_of_sum(got.get("sum"), n),
                        "best": None if best is None else figures._q(best, figures._CENT)})
        return jsonable({"institution": institution_ref(institution), "year": year, "items": out})

    return cached("institution-items", (institution.pk, year), compute, version=version)


def institution_complaints(institution: Institution, year: int) -> dict:
    scope = Scope(institution_id=institution.pk)
    return jsonable({"institution": institution_ref(institution), "year": year,
                     "complaints": complaint_summary(scope, year), "satisfaction": satisfaction_summary(scope, year)})


def institution_employees(institution: Institution, year: int) -> dict:
    """Its employees' colour distribution and its acknowledgement rate (aggregates only)."""
    counts = selectors.employee_colours(institution.pk, year)
    ack = acknowledgement_summary(Scope(institution_id=institution.pk), year)
    return jsonable({"institution": institution_ref(institution), "year": year,
                     "employees": sum(counts.values()), "colours": figures.colour_shares(counts),
                     "acknowledgements": {k: ack[k] for k in (
                         "delivered", "read", "acknowledged", "acknowledged_on_time", "read_rate",
                         "acknowledged_rate", "on_time_rate", "warnings")}})


INSTITUTION_FIGURES: dict[str, Callable[..., dict]] = {
    "items": institution_items, "complaints": institution_complaints, "employees": institution_employees,
}


# --- the city ---------------------------------------------------------------------------------------


def city_rows(city: District, years: list[int]) -> dict[tuple[int, int], dict]:
    """(district id, year) -> the district's aggregates and index; four grouped queries in all."""
    summary = selectors.summary_by_district(city.pk, years)
    complaints_ = selectors.substantiated_by_district(city.pk, years) if years else {}
    satisfaction_ = selectors.satisfaction_counts(Scope(city_id=city.pk), years) if years else {}
    sat_totals: dict[tuple[int, int], list[int]] = {}
    for (year, _month, district_id), entry in satisfaction_.items():
        acc = sat_totals.setdefault((district_id, year), [0, 0])
        acc[0] += entry["satisfied"]
        acc[1] += entry["rated"]
    out = {}
    for (district_id, year), entry in summary.items():
        received, full, partial = complaints_.get((district_id, year), (0, 0, 0))
        index = figures.city_index(figures.DistrictYear(
            institutions=entry["institutions"], total_sum=entry["total_sum"], colours=entry["colours"],
            red_lines=entry["red_lines"], substantiated=full, partially=partial))
        satisfied, rated = sat_totals.get((district_id, year), (0, 0))
        out[(district_id, year)] = {
            "institutions": entry["institutions"], "mean_total": index.mean_total,
            "colours": figures.colour_shares(entry["colours"]), "red_lines": entry["red_lines"],
            "complaints": received, "complaints_per_institution": figures.mean_of_sum(received,
                                                                                      entry["institutions"]),
            "substantiated": full, "partially_substantiated": partial,
            "satisfaction_rate": complaint_rules.satisfaction_rate(satisfied, rated),
            "index": index.index, "components": {"score": index.score, "colour": index.colour,
                                                 "red_line": index.red_line, "complaints": index.complaints},
        }
    return out


def city_league(city: District, year: int) -> dict:
    """The city's districts side by side for one year, ranked by the clean-finance index."""
    version = _version(year)

    def compute() -> dict:
        districts = selectors.districts_with_institutions(city.pk)
        rows = city_rows(city, [year])
        league = []
        for district in districts:
            row = rows.get((district.pk, year))
            league.append({"district": district_ref(district), **(row or {"institutions": 0, "index": None})})
        ranks = figures.league_ranks([r["index"] for r in league])
        for row, rank in zip(league, ranks, strict=True):
            row["rank"] = rank
        league.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["district"]["code"]))
        return jsonable({"city": district_ref(city), "year": year, "districts": league})

    return cached("city-league", (city.pk, year, timezone.localdate()), compute, version=version)


def city_trend(city: District, year: int) -> dict:
    """Each district's index over the recent years up to `year`."""
    years = sorted(y for y in selectors.result_years(Scope(city_id=city.pk)) if y <= year)[-TREND_YEARS:]
    version = _version(*years) if years else ""

    def compute() -> dict:
        districts = selectors.districts_with_institutions(city.pk)
        rows = city_rows(city, years) if years else {}
        series = [{"district": district_ref(d), "index": [rows.get((d.pk, y), {}).get("index") for y in years],
                   "mean_total": [rows.get((d.pk, y), {}).get("mean_total") for y in years]} for d in districts]
        return jsonable({"city": district_ref(city), "years": years, "series": series})

    return cached("city-trend", (city.pk, tuple(years), timezone.localdate()), compute, version=version)


# --- choices for the pages ----------------------------------------------------------------------------


def default_year(scope: Scope) -> int | None:
    years = selectors.result_years(scope)
    if years:
        return years[0]
    schemes = selectors.scheme_years()
    return schemes[0] if schemes else None


COLOUR_CHOICES = Colour.choices
