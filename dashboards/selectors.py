"""Reads for the dashboards: every query is a GROUP BY (or a bounded page), never one per row.

The dashboards never rank, weight or score anything themselves: ranks are `Result.rank` and
`Result.category_rank` and the per-item points are `Result.item_cents`, all written by scoring's
aggregation; complaint statistics and satisfaction come from `complaints.selectors`. What is left
here is grouping those stored rows by a `Scope` (a district or a city's districts, an optional
category, an optional single institution) into plain numbers; figures.py turns them into shares,
rates and changes, and data.py caches the results figures.

Which results a reader may see (DOMAIN.md "Results are seen in stages") is decided by the callers
(data.py, views): the district dashboards are the district's finance center's, who sees its
results at every stage; the city's figures read published results only (`published=True`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from institutions.models import District, Institution
from scoring.models import (
    DistrictYear,
    Indicator,
    IndicatorKind,
    Result,
    ResultStatus,
    Scheme,
    item_points_of,
    points_of_cents,
)
from scoring.selectors import ItemCents
from staff_points.models import PointRecord, RecordKind

MERGED = "merged"  # complaints.rules.MERGED: a duplicate folded into another case is not counted twice
CENT, TENTH = Decimal("0.01"), Decimal("0.1")


def _places(value, step: Decimal = CENT) -> Decimal | None:
    """A stored decimal as its column holds it (SQLite hands back 80 for 80.00, or a float for a sum)."""
    return None if value is None else Decimal(str(value)).quantize(step)


@dataclass(frozen=True)
class Scope:
    """Whose data a figure is about: a district (or some of a city's districts), a category, or one institution."""

    district_id: int | None = None
    category: str = ""
    institution_id: int | None = None
    city_id: int | None = None
    district_ids: tuple[int, ...] | None = None  # with city_id: only these of its districts

    def q(self, path: str = "institution") -> Q:
        """Q restricting a model to this scope through `path` (its lookup to Institution, "" for it)."""
        prefix = f"{path}__" if path else ""
        condition = Q()
        if self.institution_id is not None:
            condition &= Q(**{f"{path}_id" if path else "pk": self.institution_id})
        if self.district_id is not None:
            condition &= Q(**{f"{prefix}district_id": self.district_id})
        if self.city_id is not None:
            condition &= Q(**{f"{prefix}district__parent_id": self.city_id})
        if self.district_ids is not None:
            condition &= Q(**{f"{prefix}district_id__in": self.district_ids})
        if self.category:
            condition &= Q(**{f"{prefix}category": self.category})
        return condition

    def stored_q(self) -> Q:
        """Q for the stored results (Result): their own district column, so that the
        (year, district, …) indexes serve, and the institution's category."""
        condition = Q()
        if self.institution_id is not None:
            condition &= Q(institution_id=self.institution_id)
        if self.district_id is not None:
            condition &= Q(district_id=self.district_id)
        if self.city_id is not None:
            condition &= Q(district__parent_id=self.city_id)
        if self.district_ids is not None:
            condition &= Q(district_id__in=self.district_ids)
        if self.category:
            condition &= Q(institution__category=self.category)
        return condition

    def institutions(self) -> QuerySet:
        """The scope's institutions as a subquery (for selectors of other apps taking institution ids)."""
        return Institution.objects.filter(self.q("")).values("pk")

    def key(self) -> str:
        parts = (self.district_id, self.category, self.institution_id, self.city_id,
                 ",".join(map(str, self.district_ids)) if self.district_ids is not None else "")
        return ".".join(str(p or "-") for p in parts)


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """1 January 00:00 to the next 1 January, Asia/Shanghai (the calendar year every rule uses)."""
    tz = timezone.get_default_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


# --- districts, schemes and years ---------------------------------------------------------------


def scheme_years(district_id: int | None = None) -> list[int]:
    """Years with a scheme the district uses (its own or the installation's template), newest first."""
    qs = Scheme.objects.all()
    if district_id is not None:
        qs = qs.filter(Q(district__isnull=True) | Q(district_id=district_id))
    return sorted(set(qs.values_list("year", flat=True)), reverse=True)


def scheme_of(district_id: int, year: int) -> Scheme | None:
    """The scheme the district's year uses (its DistrictYear's, else its own, else the template); None
    without one. A read only: it never creates the DistrictYear."""
    dy = DistrictYear.objects.filter(district_id=district_id, year=year).select_related("scheme").first()
    if dy is not None:
        return dy.scheme
    return (Scheme.objects.filter(year=year, district_id=district_id).first()
            or Scheme.objects.filter(year=year, district__isnull=True).first())


def year_statuses(district_ids, years) -> dict[tuple[int, int], str]:
    """(district id, year) -> the district-year's status (open, notice, published); absent: open."""
    return {(d, y): s for d, y, s in DistrictYear.objects.filter(district_id__in=list(district_ids),
                                                                 year__in=list(years))
            .values_list("district_id", "year", "status")}


def result_years(scope: Scope, *, published: bool = False) -> list[int]:
    """Years with at least one result in scope (published ones only when asked), newest first."""
    qs = Result.objects.filter(scope.stored_q())
    if published:
        qs = qs.filter(status=ResultStatus.PUBLISHED)
    return list(qs.order_by("-year").values_list("year", flat=True).distinct())


def results_version(district_ids, years: list[int]) -> str:
    """Changes whenever the results of these districts and years change: an aggregation that wrote or
    removed a result (its per-item summary included), a notice, a publish or a reopen (DistrictYear
    status).

    Two small indexed queries; the dashboards' results figures are cached under this token.
    """
    district_ids = sorted(district_ids)
    results = Result.objects.filter(district_id__in=district_ids, year__in=years).aggregate(
        n=Count("id"), last=Max("computed_at"))
    stages = sorted(DistrictYear.objects.filter(district_id__in=district_ids, year__in=years)
                    .values_list("district_id", "year", "status", "scheme_id", "updated_at"))

    def stamp(moment) -> str:
        return f"{moment.timestamp():.6f}" if moment else "0"

    years_part = ";".join(f"{d}.{y}:{s}:{scheme}:{stamp(u)}" for d, y, s, scheme, u in stages)
    return f"{results['n']}:{stamp(results['last'])}:{years_part}"


# --- results ----------------------------------------------------------------------------------

RESULT_FIELDS = ("institution_id", "institution__code", "institution__name", "institution__short_name",
                 "district_id", "category", "basic", "bonus", "deduction", "total", "red_line", "colour", "status",
                 "rank", "category_rank")


def results(scope: Scope, year: int) -> list[dict]:
    """The year's results in scope with their stored ranks (one query), in rank order."""
    return list(Result.objects.filter(scope.stored_q(), year=year).order_by("rank", "institution__code")
                .values(*RESULT_FIELDS))


def result_counts(district_id: int, years: list[int]) -> dict[int, dict]:
    """year -> {"of": results in the district, "by_category": {category: results}}: the y of "rank x/y"."""
    out: dict[int, dict] = {}
    for row in (Result.objects.filter(district_id=district_id, year__in=years).values("year", "category")
                .annotate(n=Count("id")).order_by()):
        entry = out.setdefault(row["year"], {"of": 0, "by_category": {}})
        entry["of"] += row["n"]
        entry["by_category"][row["category"]] = row["n"]
    return out


def totals_by_institution(scope: Scope, year: int) -> dict[int, Decimal]:
    return dict(Result.objects.filter(scope.stored_q(), year=year).values_list("institution_id", "total"))


def institution_results(results_qs: QuerySet[Result], institution_id: int) -> list[dict]:
    """An institution's results by year as `results_qs` (the reader's visible results) lets them be
    seen, with the stored district and category ranks and how many results each ranks among."""
    mine = list(results_qs.filter(institution_id=institution_id).order_by("year")
                .values("year", "district_id", "total", "red_line", "colour", "status", "category", "rank",
                        "category_rank"))
    if not mine:
        return []
    counts: dict[tuple[int, int], dict] = {}
    rows = (Result.objects.filter(district_id__in={r["district_id"] for r in mine}, year__in={r["year"] for r in mine})
            .values("district_id", "year").annotate(
                of=Count("id"), **{f"in_{c}": Count("id", filter=Q(category=c)) for c in {r["category"] for r in mine}})
            .order_by())
    for row in rows:
        counts[(row["district_id"], row["year"])] = row
    out = []
    for row in mine:
        count = counts.get((row["district_id"], row["year"]), {})
        out.append({**row, "of": count.get("of", 0), "category_of": count.get(f"in_{row['category']}", 0)})
    return out


def _summary_rows(qs: QuerySet, keys: tuple[str, ...]) -> QuerySet:
    return (qs.values(*keys, "colour")
            .annotate(n=Count("id"), s=Sum("total"), red=Count("id", filter=Q(red_line=True)),
                      full=Coalesce(Sum("complaints_substantiated"), 0),
                      partial=Coalesce(Sum("complaints_partial"), 0)).order_by())


def _add_summary(out: dict, key, row) -> None:
    entry = out.setdefault(key, {"institutions": 0, "total_sum": Decimal(0), "colours": {}, "red_lines": 0,
                                 "substantiated": 0, "partially": 0})
    entry["institutions"] += row["n"]
    entry["total_sum"] += row["s"] or Decimal(0)
    entry["colours"][row["colour"]] = row["n"]
    entry["red_lines"] += row["red"]
    entry["substantiated"] += row["full"]
    entry["partially"] += row["partial"]


def yearly_summary(scope: Scope, years: list[int]) -> dict[int, dict]:
    """year -> {institutions, total_sum, colours{}, red_lines, substantiated, partially}, one grouped query."""
    out: dict[int, dict] = {}
    for row in _summary_rows(Result.objects.filter(scope.stored_q(), year__in=years), ("year",)):
        _add_summary(out, row["year"], row)
    return out


def summary_by_district(scope: Scope, years: list[int]) -> dict[tuple[int, int], dict]:
    """(district id, year) -> the published results' aggregates (as yearly_summary), one grouped query.

    Only published results: this is what city users read. The complaints counted are the ones the
    aggregation deducted for (`Result.complaints_substantiated` / `complaints_partial`)."""
    out: dict[tuple[int, int], dict] = {}
    qs = Result.objects.filter(scope.stored_q(), year__in=years, status=ResultStatus.PUBLISHED)
    for row in _summary_rows(qs, ("district_id", "year")):
        _add_summary(out, (row["district_id"], row["year"]), row)
    return out


# --- per-item points (the items of the norms), as scoring's aggregation stored them -------------------


def item_maxima(scheme: Scheme) -> list[dict]:
    """The scheme's items holding basic indicators: number, title and the sum of their maxima (one query)."""
    rows = (Indicator.objects.filter(scheme=scheme, kind=IndicatorKind.BASIC, clause__isnull=False)
            .values(number=F("clause__item__number"), item_title=F("clause__item__title"))
            .annotate(maximum=Sum("max_points")).order_by("number"))
    return [{"number": r["number"], "title": r["item_title"], "maximum": _places(r["maximum"], TENTH)} for r in rows]


def item_scores(scope: Scope, year: int) -> dict:
    """Per item: the sum and best of the institutions' stored item points and how many institutions
    (one query over the results' per-item summary, `Result.item_cents`, summed here: a province's
    5,000 small JSON objects)."""
    sums: dict[int, list[int]] = {}
    for cents_by_item in Result.objects.filter(scope.stored_q(), year=year).values_list("item_cents", flat=True):
        for key, cents in (cents_by_item or {}).items():
            acc = sums.get(key)
            if acc is None:
                sums[key] = [cents, cents, 1]
            else:
                acc[0] += cents
                acc[1] = max(acc[1], cents)
                acc[2] += 1
    out: dict = {"institutions": 0, "items": {}}
    for number, (total, best, n) in sorted((int(key), acc) for key, acc in sums.items()):
        out["institutions"] = max(out["institutions"], n)
        out["items"][number] = {"sum": points_of_cents(total), "best": points_of_cents(best), "n": n}
    return out


def own_item_points(institution_id: int, year: int) -> dict[int, Decimal]:
    """item number -> the institution's stored points on it."""
    stored = Result.objects.filter(institution_id=institution_id, year=year).values_list("item_cents", flat=True)
    return item_points_of(next(iter(stored), {}))


def item_rows(scope: Scope, year: int, item_number: int, *, offset: int, limit: int) -> tuple[int, list]:
    """Institutions' stored points on one item, best first (a page, and how many in all: two queries)."""
    qs = (Result.objects.filter(scope.stored_q(), year=year).annotate(cents=ItemCents(item_number))
          .filter(cents__isnull=False))
    rows = list(qs.order_by("-cents", "institution__code")
                .values("institution_id", "institution__code", "institution__name", "cents")[offset:offset + limit])
    return qs.count(), [{"institution_id": r["institution_id"], "code": r["institution__code"],
                         "name": r["institution__name"], "score": points_of_cents(r["cents"])} for r in rows]


def item_points_by_institution(scope: Scope, year: int) -> dict[tuple[int, int], Decimal]:
    """(institution id, item number) -> stored points: the report's per-item detail (one query)."""
    return {(institution_id, number): points
            for institution_id, cents_by_item in Result.objects.filter(scope.stored_q(), year=year)
            .values_list("institution_id", "item_cents")
            for number, points in item_points_of(cents_by_item).items()}


def confirmed_bonus_and_red_lines(scheme: Scheme, scope: Scope) -> dict[tuple[int, int], object]:
    """(institution id, indicator id) -> inspection bonus points, or True for a red-line hit on any
    submitted sheet: the entries behind a report's bonus and red-line columns (shown as entered)."""
    from scoring.models import SheetEntry, SheetStatus

    entries = (SheetEntry.objects.filter(
        sheet__assessment__year=scheme.year, sheet__assessment__scheme=scheme, sheet__status=SheetStatus.SUBMITTED,
        indicator__kind__in=[IndicatorKind.BONUS, IndicatorKind.RED_LINE])
        .filter(scope.q("sheet__assessment__institution"))
        .filter(Q(indicator__kind=IndicatorKind.RED_LINE, hit=True)
                | Q(indicator__kind=IndicatorKind.BONUS, sheet__source="inspection"))
        .values_list("sheet__assessment__institution_id", "indicator_id", "indicator__kind", "points"))
    out: dict[tuple[int, int], object] = {}
    for institution_id, indicator_id, kind, points in entries:
        out[(institution_id, indicator_id)] = True if kind == IndicatorKind.RED_LINE else points
    return out


# --- complaints: the cases behind the figures, and the month × kind breakdown ---------------------


def _complaints(scope: Scope, year: int) -> QuerySet:
    from complaints.models import Complaint

    start, end = year_bounds(year)
    return Complaint.objects.filter(scope.q(), received_at__gte=start, received_at__lt=end).exclude(status=MERGED)


def complaint_rows(scope: Scope, year: int, *, kind: str = "", month: int | None = None, outcome: str = "",
                   offset: int, limit: int) -> tuple[int, list[dict]]:
    """Cases behind a complaints figure: id, institution, kind, status, outcome and dates; no person."""
    tz = timezone.get_default_timezone()
    qs = _complaints(scope, year)
    if kind:
        qs = qs.filter(kind=kind)
    if month:
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        qs = qs.filter(received_at__gte=start, received_at__lt=end)
    if outcome == "concluded":
        qs = qs.exclude(outcome="")
    elif outcome:
        qs = qs.filter(outcome=outcome)
    count = qs.count()
    rows = list(qs.order_by("-received_at", "-id").values(
        "id", "institution__code", "institution__name", "kind", "status", "outcome", "received_at",
        "concluded_at")[offset:offset + limit])
    return count, rows


# --- staff violations (employees' point deductions) ------------------------------------------------


def violation_counts(scope: Scope, years: list[int]) -> dict:
    """Deduction records (staff violation cases) by (year, month, day), and by module for each year."""
    records = PointRecord.objects.filter(scope.q("employee__institution"), kind=RecordKind.DEDUCTION,
                                         date__gte=dt.date(min(years), 1, 1), date__lte=dt.date(max(years), 12, 31))
    by_day: dict[tuple[int, int, int], int] = {}
    by_module: dict[tuple[int, str], int] = {}
    # Grouped by day (at most 366 rows a year) so that a same-period cut can be applied afterwards.
    for row in (records.values("date", "module").annotate(n=Count("id")).order_by()):
        day = row["date"]
        key = (day.year, day.month, day.day)
        by_day[key] = by_day.get(key, 0) + row["n"]
        by_module[(day.year, row["module"])] = by_module.get((day.year, row["module"]), 0) + row["n"]
    return {"by_day": by_day, "by_module": by_module}


def violation_rows(scope: Scope, year: int, *, month: int | None, offset: int, limit: int) -> tuple[int, list]:
    records = PointRecord.objects.filter(scope.q("employee__institution"), kind=RecordKind.DEDUCTION,
                                         date__year=year)
    if month:
        records = records.filter(date__month=month)
    count = records.count()
    rows = list(records.order_by("-date", "-id").values(
        "id", "date", "module", "points", "is_red_line", "employee__institution__code",
        "employee__institution__name", "employee__name", "employee__employee_no",
        "violation_type__name")[offset:offset + limit])
    return count, rows


# --- warnings' acknowledgement -------------------------------------------------------------------


def _year_warning_ids(year: int) -> QuerySet:
    from warnings_feed.models import Warning

    start, end = year_bounds(year)
    return Warning.objects.filter(publish_at__gte=start, publish_at__lt=end).order_by().values("pk")


def acknowledgement_figures(scope: Scope, year: int, *, latest: int = 20) -> dict:
    """Totals, the latest warnings' rates and the rates per category for the year's warnings.

    One grouped query of the warnings app's tallies (per warning and institution) by (warning,
    category): the totals and both breakdowns are sums of its rows.
    """
    from warnings_feed.models import Warning
    from warnings_feed.selectors import tally_sums_by_warning_and_category

    rows = tally_sums_by_warning_and_category(_year_warning_ids(year), where=scope.q())
    keys = ("delivered", "read", "acknowledged", "on_time")
    total = {k: sum(r[k] for r in rows) for k in keys}
    per_warning: dict[int, dict] = {}
    per_category: dict[str, dict] = {}
    for row in rows:
        for bucket, key in ((per_warning, row["warning_id"]), (per_category, row["category"])):
            entry = bucket.setdefault(key, dict.fromkeys(keys, 0))
            for k in keys:
                entry[k] += row[k]
    recent = list(Warning.objects.filter(pk__in=list(per_warning)).order_by("-publish_at", "-id")
                  .values("pk", "title", "names", "publish_at")[:latest])
    return {"total": total, "recent": recent, "per_warning": per_warning,
            "by_category": [{"institution__category": c, **v} for c, v in sorted(per_category.items())]}


def acknowledgement_by_institution(scope: Scope, year: int, *, offset: int, limit: int) -> tuple[int, list]:
    """Institutions' acknowledgement rates for the year's warnings, lowest first (a page, and how many)."""
    from warnings_feed.selectors import tally_sums_by_institution

    return tally_sums_by_institution(_year_warning_ids(year), where=scope.q(), offset=offset, limit=limit)


# --- employees of one institution ---------------------------------------------------------------


def employee_colours(institution_id: int, year: int) -> dict[str, int]:
    from staff_points import selectors as staff_selectors

    return staff_selectors.colour_distribution(institution_id, year)


def district_ids_with_institutions(ids=None) -> list[District]:
    """Districts (of `ids`, when given) that have institutions, by code."""
    qs = District.objects.filter(level=District.Level.DISTRICT, institutions__isnull=False).distinct()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return list(qs.select_related("parent").order_by("code"))
