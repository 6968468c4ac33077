"""Reads for the dashboards: every query is a GROUP BY (or a bounded page), never one per row.

Each function takes a `Scope` (district, optional category, optional single institution) and hands
back plain numbers; figures.py turns them into shares, rates and changes, and data.py caches the
results. Complaints, satisfaction, staff points and warnings are read with their apps' own
selectors where those exist (complaints.rules for the rates, warnings_feed.selectors for the
acknowledgement rates) and with grouped queries of their models otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractYear, TruncDate
from django.utils import timezone

from institutions.models import District, Institution
from scoring.models import (
    Indicator,
    IndicatorKind,
    Result,
    Scheme,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
)
from staff_points.models import PointRecord, RecordKind

MERGED = "merged"  # complaints.rules.MERGED: a duplicate folded into another case is not counted twice


@dataclass(frozen=True)
class Scope:
    """Whose data a figure is about: a district (or a whole city), a category, or one institution."""

    district_id: int | None = None
    category: str = ""
    institution_id: int | None = None
    city_id: int | None = None

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
        if self.category:
            condition &= Q(**{f"{prefix}category": self.category})
        return condition

    def key(self) -> str:
        parts = (self.district_id, self.category, self.institution_id, self.city_id)
        return ".".join(str(p or "-") for p in parts)


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """1 January 00:00 to the next 1 January, Asia/Shanghai (the calendar year every rule uses)."""
    tz = timezone.get_default_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


# --- districts and years ----------------------------------------------------------------------


def district_by_code(code: str) -> District | None:
    return District.objects.filter(code=code).select_related("parent").first()


def default_district() -> District | None:
    """The district with the most active institutions (the lowest code on a tie)."""
    row = (Institution.objects.filter(is_active=True).values("district_id")
           .annotate(n=Count("id")).order_by("-n", "district__code").first())
    return District.objects.select_related("parent").get(pk=row["district_id"]) if row else None


def districts_with_institutions(city_id: int | None = None) -> list[District]:
    qs = District.objects.filter(institutions__isnull=False).distinct().select_related("parent").order_by("code")
    if city_id is not None:
        qs = qs.filter(parent_id=city_id)
    return list(qs)


def scheme_years() -> list[int]:
    return list(Scheme.objects.order_by("-year").values_list("year", flat=True))


def result_years(scope: Scope) -> list[int]:
    """Years with at least one result in scope, newest first."""
    return list(Result.objects.filter(scope.q()).order_by("-year").values_list("year", flat=True).distinct())


def results_version(years: list[int]) -> str:
    """Changes whenever the results of these years change: a new aggregation or a publish/reopen.

    Two small queries; the dashboards' results-based figures are cached under this token, so they
    are recomputed only after an aggregation run wrote something or a year changed status.
    """
    agg = Result.objects.filter(year__in=years).aggregate(n=Count("id"), last=Max("computed_at"))
    schemes = sorted(Scheme.objects.filter(year__in=years).values_list("year", "status", "updated_at"))
    last = agg["last"].timestamp() if agg["last"] else 0
    stamp = ";".join(f"{y}:{s}:{u.timestamp():.6f}" for y, s, u in schemes)
    return f"{agg['n']}:{last:.6f}:{stamp}"


def scheme_for(year: int) -> Scheme | None:
    return Scheme.objects.filter(year=year).first()


# --- results ----------------------------------------------------------------------------------

RESULT_FIELDS = ("institution_id", "institution__code", "institution__name", "institution__short_name",
                 "category", "basic", "bonus", "deduction", "total", "red_line", "colour", "status")


def results(scope: Scope, year: int) -> list[dict]:
    """The year's results in scope (one query), as plain rows."""
    return list(Result.objects.filter(scope.q(), year=year).order_by("red_line", "-total", "institution__code")
                .values(*RESULT_FIELDS))


def totals_by_institution(scope: Scope, year: int) -> dict[int, Decimal]:
    return dict(Result.objects.filter(scope.q(), year=year).values_list("institution_id", "total"))


def institution_ranks(institution_id: int, district_id: int) -> list[dict]:
    """An institution's results by year with its district rank and category rank (two queries in all).

    Competition ranks (1, 2, 2, 4): one plus the number of the district's results that year that
    rank strictly better (no red line where it has one, else a higher total).
    """
    mine = list(Result.objects.filter(institution_id=institution_id).order_by("year")
                .values("year", "total", "red_line", "colour", "status", "category"))
    if not mine:
        return []
    better, better_in_category = Q(pk__in=[]), Q(pk__in=[])
    for row in mine:
        ahead = Q(red_line=False, total__gt=row["total"]) if not row["red_line"] else (
            Q(red_line=False) | Q(red_line=True, total__gt=row["total"]))
        better |= Q(year=row["year"]) & ahead
        better_in_category |= Q(year=row["year"], category=row["category"]) & ahead
    counts = {r["year"]: r for r in Result.objects.filter(
        institution__district_id=district_id, year__in=[r["year"] for r in mine]).values("year").annotate(
        of=Count("id"), better=Count("id", filter=better), category_better=Count("id", filter=better_in_category))
        .order_by()}
    out = []
    for row in mine:
        count = counts.get(row["year"], {"of": 0, "better": 0, "category_better": 0})
        out.append({**row, "rank": count["better"] + 1, "category_rank": count["category_better"] + 1,
                    "of": count["of"]})
    return out


def yearly_summary(scope: Scope, years: list[int]) -> dict[int, dict]:
    """year -> {institutions, total_sum, colours{}, red_lines} in one grouped query."""
    out: dict[int, dict] = {}
    rows = (Result.objects.filter(scope.q(), year__in=years).values("year", "colour")
            .annotate(n=Count("id"), s=Sum("total"), red=Count("id", filter=Q(red_line=True))).order_by())
    for row in rows:
        entry = out.setdefault(row["year"], {"institutions": 0, "total_sum": Decimal(0), "colours": {},
                                             "red_lines": 0})
        entry["institutions"] += row["n"]
        entry["total_sum"] += row["s"] or Decimal(0)
        entry["colours"][row["colour"]] = row["n"]
        entry["red_lines"] += row["red"]
    return out


def summary_by_district(city_id: int, years: list[int]) -> dict[tuple[int, int], dict]:
    """(district id, year) -> {institutions, total_sum, colours{}, red_lines}, one grouped query."""
    out: dict[tuple[int, int], dict] = {}
    rows = (Result.objects.filter(institution__district__parent_id=city_id, year__in=years)
            .values("institution__district_id", "year", "colour")
            .annotate(n=Count("id"), s=Sum("total"), red=Count("id", filter=Q(red_line=True))).order_by())
    for row in rows:
        key = (row["institution__district_id"], row["year"])
        entry = out.setdefault(key, {"institutions": 0, "total_sum": Decimal(0), "colours": {}, "red_lines": 0})
        entry["institutions"] += row["n"]
        entry["total_sum"] += row["s"] or Decimal(0)
        entry["colours"][row["colour"]] = row["n"]
        entry["red_lines"] += row["red"]
    return out


# --- per-item scores (the 10 items of the norms) ---------------------------------------------------


def _weight_case(scheme: Scheme) -> tuple[str, list]:
    return ("CASE s.source WHEN 'self' THEN %s WHEN 'inspection' THEN %s ELSE %s END",
            [scheme.weight_self, scheme.weight_inspection, scheme.weight_third_party])


def _scope_sql(scope: Scope, alias: str = "i") -> tuple[str, list]:
    clauses, params = [], []
    if scope.district_id is not None:
        clauses.append(f"{alias}.district_id = %s")
        params.append(scope.district_id)
    if scope.city_id is not None:
        table = District._meta.db_table
        clauses.append(f"{alias}.district_id IN (SELECT id FROM {table} WHERE parent_id = %s)")  # noqa: S608
        params.append(scope.city_id)
    if scope.institution_id is not None:
        clauses.append(f"{alias}.id = %s")
        params.append(scope.institution_id)
    if scope.category:
        clauses.append(f"{alias}.category = %s")
        params.append(scope.category)
    return "".join(f" AND {c}" for c in clauses), params


def basic_indicators(scheme: Scheme) -> list[dict]:
    """The scheme's basic indicators with their item (number, title) and maximum, in order (one query)."""
    return list(Indicator.objects.filter(scheme=scheme, kind=IndicatorKind.BASIC, clause__isnull=False)
                .order_by("clause__item__number", "position", "code")
                .values("id", "code", "max_points", item=F("clause__item__number"),
                        item_title=F("clause__item__title")))


def _weighted_sql(scheme: Scheme, scope: Scope, group: str, indicators: list[dict]) -> tuple[str, list]:
    """SQL of one row per (institution, item|indicator) with its weighted basic points, named `per`.

    c = Σ_s w_s · p_s / Σ_s w_s over the submitted sheets (SCORING.md step 2; a missing entry on a
    submitted sheet counts 0, and weights that sum to 0 fall back to the plain mean), summed over
    the item's indicators. Entries are first summed per sheet and item (the indicator → item map is
    handed in, so no join through clauses and items), in double precision: these are figures to
    show with two decimals, not scores to store. Works on PostgreSQL and SQLite alike.
    """
    weight, wparams = _weight_case(scheme)
    wparams = [float(w) for w in wparams]
    where, sparams = _scope_sql(scope)
    t = {m.__name__: m._meta.db_table for m in (SheetEntry, ScoreSheet, Institution)}
    assessment_table = ScoreSheet._meta.get_field("assessment").related_model._meta.db_table
    mapping = [(i["id"], i["item"] if group == "item" else i["id"]) for i in indicators] or [(-1, -1)]
    mapping_sql = " UNION ALL ".join("SELECT %s AS indicator_id, %s AS k" for _ in mapping)
    sql = f"""
        WITH present AS (
            SELECT a.id AS assessment_id, a.institution_id,
                   SUM({weight}) AS wsum, COUNT(*) AS nsheets
            FROM {assessment_table} a
            JOIN {t['ScoreSheet']} s ON s.assessment_id = a.id AND s.status = %s
            JOIN {t['Institution']} i ON i.id = a.institution_id
            WHERE a.year = %s{where}
            GROUP BY a.id, a.institution_id
        ),
        sheet_k AS (
            SELECT e.sheet_id, m.k, SUM(CAST(e.points AS DOUBLE PRECISION)) AS pts
            FROM {t['SheetEntry']} e JOIN ({mapping_sql}) m ON m.indicator_id = e.indicator_id
            WHERE e.points IS NOT NULL
            GROUP BY e.sheet_id, m.k
        ),
        per AS (
            SELECT p.institution_id AS institution_id, sk.k AS k,
                   CASE WHEN p.wsum > 0 THEN SUM(sk.pts * {weight}) / p.wsum
                        ELSE SUM(sk.pts) / p.nsheets END AS v
            FROM sheet_k sk
            JOIN {t['ScoreSheet']} s ON s.id = sk.sheet_id AND s.status = %s
            JOIN present p ON p.assessment_id = s.assessment_id
            GROUP BY p.institution_id, sk.k, p.wsum, p.nsheets
        )"""  # noqa: S608
    params = [*wparams, SheetStatus.SUBMITTED, scheme.year, *sparams, *[v for pair in mapping for v in pair],
              *wparams, SheetStatus.SUBMITTED]
    return sql, params


def _decimal(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        # Drop binary noise (…4999999997) before rounding half up to cents: 9 places are far below a cent.
        return Decimal(repr(round(value, 9)))
    return value if isinstance(value, Decimal) else Decimal(str(value))


def item_maxima(scheme: Scheme, indicators: list[dict] | None = None) -> list[dict]:
    """The norms' items with the sum of their basic indicators' maxima, in item order."""
    out: dict[int, dict] = {}
    for indicator in indicators if indicators is not None else basic_indicators(scheme):
        entry = out.setdefault(indicator["item"], {"number": indicator["item"], "title": indicator["item_title"],
                                                   "maximum": Decimal(0)})
        entry["maximum"] += indicator["max_points"]
    return [out[k] for k in sorted(out)]


def item_summary_is_current(year: int, version: str) -> bool:
    """Whether the year's `ItemScore` rows were written at this results version (one small query)."""
    from .models import ItemScoreRefresh

    return ItemScoreRefresh.objects.filter(year=year, version=version).exists()


def insert_item_scores(scheme: Scheme) -> int:
    """Write every assessed institution's weighted score on each basic item of the year (one statement).

    Rows for every (assessed institution, item), empty where it entered nothing: see models.ItemScore.
    The caller deletes the year's old rows first, in the same transaction.
    """
    from .models import ItemScore

    indicators = basic_indicators(scheme)
    if not indicators:
        return 0
    sql, params = _weighted_sql(scheme, Scope(), "item", indicators)
    items = sorted({i["item"] for i in indicators})
    items_sql = " UNION ALL ".join("SELECT %s AS k" for _ in items)
    table = ItemScore._meta.db_table
    statement = f"""
        INSERT INTO {table} (year, institution_id, item, score)
        {sql}
        SELECT %s, p.institution_id, n.k, per.v
        FROM present p CROSS JOIN ({items_sql}) n
        LEFT JOIN per ON per.institution_id = p.institution_id AND per.k = n.k"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, scheme.year, *items])
        return max(cursor.rowcount, 0)


def _summary_item_scores(year: int, scope: Scope, institution_id: int | None) -> dict:
    from .models import ItemScore

    where, params = _scope_sql(scope)
    sql = f"""
        SELECT s.item, COUNT(*), SUM(s.score), MAX(s.score),
               MAX(CASE WHEN s.institution_id = %s THEN s.score END)
        FROM {ItemScore._meta.db_table} s JOIN {Institution._meta.db_table} i ON i.id = s.institution_id
        WHERE s.year = %s{where}
        GROUP BY s.item ORDER BY s.item"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [institution_id if institution_id is not None else -1, year, *params])
        rows = cursor.fetchall()
    out: dict = {"institutions": max((r[1] for r in rows), default=0), "items": {}}
    for k, _n, total, best, own in rows:
        if best is not None:  # an item nobody entered anything on is absent, as in the computation
            out["items"][k] = {"sum": _decimal(total), "best": _decimal(best), "own": _decimal(own)}
    return out


def item_scores(scheme: Scheme, scope: Scope, institution_id: int | None = None,
                indicators: list[dict] | None = None, *, from_summary: bool = False) -> dict:
    """Per item: the sum and best of institutions' weighted item scores, how many institutions, and
    (when asked) one institution's own score. One SQL statement: on the `ItemScore` summary when the
    caller checked it is current (`item_summary_is_current`), else on the sheets' entries."""
    if from_summary:
        return _summary_item_scores(scheme.year, scope, institution_id)
    indicators = indicators if indicators is not None else basic_indicators(scheme)
    sql, params = _weighted_sql(scheme, scope, "item", indicators)
    sql += """
        SELECT n.total, per.k, SUM(per.v), MAX(per.v), MAX(CASE WHEN per.institution_id = %s THEN per.v END)
        FROM (SELECT COUNT(*) AS total FROM present) n LEFT JOIN per ON 1 = 1
        GROUP BY n.total, per.k ORDER BY per.k"""
    params.append(institution_id if institution_id is not None else -1)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out: dict = {"institutions": rows[0][0] if rows else 0, "items": {}}
    for _n, k, total, best, own in rows:
        if k is not None:
            out["items"][k] = {"sum": _decimal(total), "best": _decimal(best), "own": _decimal(own)}
    return out


def item_rows(scheme: Scheme, scope: Scope, item_number: int, *, offset: int, limit: int,
              from_summary: bool = False) -> tuple[int, list]:
    """Institutions' weighted scores on one item, best first (a page, and how many in all)."""
    inst = Institution._meta.db_table
    if from_summary:
        from .models import ItemScore

        where, params = _scope_sql(scope)
        page_sql = f"""
            SELECT s.institution_id, i.code, i.name, s.score, COUNT(*) OVER ()
            FROM {ItemScore._meta.db_table} s JOIN {inst} i ON i.id = s.institution_id
            WHERE s.year = %s AND s.item = %s AND s.score IS NOT NULL{where}
            ORDER BY s.score DESC, i.code LIMIT %s OFFSET %s"""  # noqa: S608
        params = [scheme.year, item_number, *params, limit, offset]
    else:
        indicators = [i for i in basic_indicators(scheme) if i["item"] == item_number]
        sql, params = _weighted_sql(scheme, scope, "item", indicators)
        page_sql = sql + f"""
            SELECT per.institution_id, i.code, i.name, per.v, COUNT(*) OVER ()
            FROM per JOIN {inst} i ON i.id = per.institution_id
            WHERE per.k = %s ORDER BY per.v DESC, i.code LIMIT %s OFFSET %s"""  # noqa: S608
        params = [*params, item_number, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(page_sql, params)
        rows = cursor.fetchall()
    count = rows[0][4] if rows else 0
    return count, [{"institution_id": r[0], "code": r[1], "name": r[2], "score": _decimal(r[3])} for r in rows]


def indicator_values(scheme: Scheme, scope: Scope) -> dict[tuple[int, int], Decimal]:
    """(institution id, indicator id) -> weighted basic points: the per-indicator detail of a report."""
    sql, params = _weighted_sql(scheme, scope, "indicator", basic_indicators(scheme))
    with connection.cursor() as cursor:
        cursor.execute(sql + " SELECT institution_id, k, v FROM per", params)  # noqa: S608
        return {(r[0], r[1]): _decimal(r[2]) for r in cursor.fetchall()}


def confirmed_bonus_and_red_lines(scheme: Scheme, scope: Scope) -> dict[tuple[int, int], object]:
    """(institution id, indicator id) -> inspection bonus points, or True for a red-line hit on any sheet."""
    entries = (SheetEntry.objects.filter(
        sheet__assessment__year=scheme.year, sheet__status=SheetStatus.SUBMITTED,
        indicator__kind__in=[IndicatorKind.BONUS, IndicatorKind.RED_LINE])
        .filter(scope.q("sheet__assessment__institution"))
        .filter(Q(indicator__kind=IndicatorKind.RED_LINE, hit=True)
                | Q(indicator__kind=IndicatorKind.BONUS, sheet__source="inspection"))
        .values_list("sheet__assessment__institution_id", "indicator_id", "indicator__kind", "points"))
    out: dict[tuple[int, int], object] = {}
    for institution_id, indicator_id, kind, points in entries:
        out[(institution_id, indicator_id)] = True if kind == IndicatorKind.RED_LINE else points
    return out


# --- complaints -------------------------------------------------------------------------------


def _complaints(scope: Scope, year: int) -> QuerySet:
    from complaints.models import Complaint

    start, end = year_bounds(year)
    return Complaint.objects.filter(scope.q(), received_at__gte=start, received_at__lt=end).exclude(status=MERGED)


def _month_index(field: str, first_year: int, last_year: int) -> Case:
    """The Asia/Shanghai month of `field` counted from January of `first_year` (0, 1, …), for rows
    already restricted to first_year … last_year.

    Compared with the months' first instants instead of converting every row's time zone (EXTRACT or
    DATE_TRUNC … AT TIME ZONE): the same month, at a fraction of the cost over a year of cases.
    """
    tz = timezone.get_default_timezone()
    starts = [dt.datetime(y, m, 1, tzinfo=tz) for y in range(first_year, last_year + 1) for m in range(1, 13)]
    return Case(*[When(**{f"{field}__lt": start}, then=Value(i)) for i, start in enumerate(starts[1:])],
                default=Value(len(starts) - 1), output_field=IntegerField())


def complaint_figures(scope: Scope, year: int) -> dict:
    """Counts by month × kind and by outcome, and the handling time of concluded cases.

    One grouped scan (month × kind × outcome, with the count of cases having a conclusion time and
    their summed handling days); the three figures are sums of its rows. Concluded = an outcome.
    """
    tz = timezone.get_default_timezone()
    # Calendar days from receipt to conclusion (Asia/Shanghai dates), summed in SQL for the cases
    # with a conclusion time.
    days = ExpressionWrapper(TruncDate("concluded_at", tzinfo=tz) - TruncDate("received_at", tzinfo=tz),
                             output_field=DurationField())
    with_time = Q(concluded_at__isnull=False)
    rows = (_complaints(scope, year).annotate(i=_month_index("received_at", year, year))
            .values("i", "kind", "outcome")
            .annotate(n=Count("id"), handled=Count("id", filter=with_time), days=Sum(days, filter=with_time))
            .order_by())
    by_month_kind: dict[tuple[int, str], int] = {}
    by_outcome: dict[str, int] = {}
    handled = handling_days = 0
    for row in rows:
        key = (row["i"] + 1, row["kind"])
        by_month_kind[key] = by_month_kind.get(key, 0) + row["n"]
        if row["outcome"]:
            by_outcome[row["outcome"]] = by_outcome.get(row["outcome"], 0) + row["n"]
            handled += row["handled"]
            value = row["days"]
            handling_days += value.days if isinstance(value, dt.timedelta) else int(value or 0)
    return {"by_month_kind": by_month_kind, "by_outcome": by_outcome, "handled": handled,
            "handling_days": handling_days}


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


def substantiated_by_district(city_id: int, years: list[int]) -> dict[tuple[int, int], tuple[int, int, int]]:
    """(district id, year) -> (complaints received, substantiated, partially substantiated)."""
    from complaints.models import Complaint

    tz = timezone.get_default_timezone()
    start, _ = year_bounds(min(years))
    _, end = year_bounds(max(years))
    rows = (Complaint.objects.filter(institution__district__parent_id=city_id, received_at__gte=start,
                                     received_at__lt=end).exclude(status=MERGED)
            .annotate(y=ExtractYear("received_at", tzinfo=tz)).values("institution__district_id", "y")
            .annotate(n=Count("id"), full=Count("id", filter=Q(outcome="substantiated")),
                      partial=Count("id", filter=Q(outcome="partially_substantiated"))).order_by())
    return {(r["institution__district_id"], r["y"]): (r["n"], r["full"], r["partial"]) for r in rows}


# --- satisfaction -----------------------------------------------------------------------------


def satisfaction_counts(scope: Scope, years: list[int]) -> dict[tuple, dict]:
    """(year, month[, district id]) -> {"rated", "satisfied"}: questionnaire answers and public ratings.

    The same definition as complaints.selectors.satisfaction_by_month (a rating is satisfied when the
    mean of its 1–5 scores is at least 4), counted in SQL: two grouped queries for any span of years,
    the answers from their monthly tally (complaints.SatisfactionTally), the ratings from the cases.
    """
    from complaints.models import SatisfactionTally

    start, _ = year_bounds(min(years))
    _, end = year_bounds(max(years))
    district = ["institution__district_id"] if scope.city_id is not None else []
    out: dict[tuple, dict] = defaultdict(lambda: {"rated": 0, "satisfied": 0})
    tallies = (SatisfactionTally.objects.filter(scope.q(), year__gte=min(years), year__lte=max(years), rated__gt=0)
               .values("year", "month", *district).annotate(n=Sum("rated"), s=Sum("satisfied")).order_by())
    for row in tallies:
        entry = out[(row["year"], row["month"], *(row[k] for k in district))]
        entry["rated"] += row["n"]
        entry["satisfied"] += row["s"]
    ratings = (_rated_ratings(scope, start, end).annotate(i=_month_index("received_at", min(years), max(years)))
               .values("i", *district).annotate(**_rating_counts()).order_by())
    for row in ratings:
        entry = out[(min(years) + row["i"] // 12, row["i"] % 12 + 1, *(row[k] for k in district))]
        entry["rated"] += row["n"]
        entry["satisfied"] += row["s"]
    return dict(out)


_RATINGS = ("rating_attitude", "rating_efficiency", "rating_integrity")


def _rating_counts() -> dict:
    """Ratings (n) and satisfied ones (s): the mean of the given scores is at least 4, that is, the given
    scores' excesses over 4 (annotated by _rated_ratings) add up to 0 or more."""
    return {"n": Count("id"), "s": Count("id", filter=Q(excess__gte=0))}


def _rated_ratings(scope: Scope, start: dt.datetime, end: dt.datetime) -> QuerySet:
    """Public ratings received in [start, end) with at least one score, annotated `excess`: Σ (score − 4)."""
    from complaints.models import Complaint

    excess = sum((Coalesce(F(f) - Value(4), Value(0)) for f in _RATINGS), Value(0))
    scored = Q(rating_attitude__isnull=False) | Q(rating_efficiency__isnull=False) | Q(rating_integrity__isnull=False)
    return (Complaint.objects.filter(scope.q(), scored, kind="rating", received_at__gte=start, received_at__lt=end)
            .annotate(excess=ExpressionWrapper(excess, output_field=IntegerField())))


def satisfaction_by_institution(scope: Scope, year: int, month: int | None, *, offset: int,
                                limit: int) -> tuple[int, list[dict]]:
    """Institutions' satisfaction in a year (or one month of it): the rows behind the satisfaction chart.

    Two grouped queries (the answers' monthly tallies, the public ratings) and one for the page's names.
    """
    from complaints.models import SatisfactionTally

    tz = timezone.get_default_timezone()
    start, end = year_bounds(year)
    tallies = SatisfactionTally.objects.filter(scope.q(), year=year, rated__gt=0)
    if month and not 1 <= month <= 12:
        return 0, []
    if month:
        tallies = tallies.filter(month=month)
        # The month in Asia/Shanghai as a range of receipt times (the (kind, received_at) index serves it).
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    per: dict[int, dict] = defaultdict(lambda: {"rated": 0, "satisfied": 0})
    for row in tallies.values("institution_id").annotate(n=Sum("rated"), s=Sum("satisfied")).order_by():
        per[row["institution_id"]]["rated"] += row["n"]
        per[row["institution_id"]]["satisfied"] += row["s"]
    for row in _rated_ratings(scope, start, end).values("institution_id").annotate(**_rating_counts()).order_by():
        per[row["institution_id"]]["rated"] += row["n"]
        per[row["institution_id"]]["satisfied"] += row["s"]
    ordered = sorted(per.items(), key=lambda kv: (kv[1]["satisfied"] / kv[1]["rated"], kv[0]))
    page = ordered[offset:offset + limit]
    names = dict((pk, (code, name)) for pk, code, name in Institution.objects.filter(
        pk__in=[pk for pk, _ in page]).values_list("pk", "code", "name"))
    return len(ordered), [{"institution_id": pk, "code": names.get(pk, ("", ""))[0],
                           "name": names.get(pk, ("", ""))[1], **counts} for pk, counts in page]


# --- staff violations (employees' point deductions) ------------------------------------------------


def violation_counts(scope: Scope, years: list[int]) -> dict:
    """Deduction records (staff violation cases) by (year, month), and by module for each year."""
    records = PointRecord.objects.filter(scope.q("employee__institution"), kind=RecordKind.DEDUCTION,
                                         date__gte=dt.date(min(years), 1, 1), date__lte=dt.date(max(years), 12, 31))
    by_day: dict[tuple[int, int, int], int] = {}
    by_module: dict[tuple[int, str], int] = defaultdict(int)
    # Grouped by day (at most 366 rows a year) so that a same-period cut can be applied afterwards.
    for row in (records.values("date", "module").annotate(n=Count("id")).order_by()):
        day = row["date"]
        key = (day.year, day.month, day.day)
        by_day[key] = by_day.get(key, 0) + row["n"]
        by_module[(day.year, row["module"])] += row["n"]
    return {"by_day": by_day, "by_module": dict(by_module)}


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

    One grouped query of the warnings app's tallies (per warning and institution, kept exact as
    deliveries are read and acknowledged) by (warning, category): the totals and both breakdowns
    are sums of its rows. "On time" is the warnings app's: within WARNINGS_ACKNOWLEDGE_WITHIN_DAYS.
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
    """Institutions' acknowledgement rates for the year's warnings, lowest first (a page, and how many).

    Rows: institution_id, code, name, delivered, read, acknowledged, on_time; equal rates by
    institution id. Summed from the warnings app's tallies, sorted and paged in SQL (one query).
    """
    from warnings_feed.selectors import tally_sums_by_institution

    return tally_sums_by_institution(_year_warning_ids(year), where=scope.q(), offset=offset, limit=limit)


# --- employees of one institution ---------------------------------------------------------------


def employee_colours(institution_id: int, year: int) -> dict[str, int]:
    from staff_points.selectors import colour_distribution

    return colour_distribution(institution_id, year)


def employee_rows(institution_id: int, year: int, *, colour: str = "") -> list[dict]:
    """The institution's employees with their year's points and colour (one grouped query)."""
    from institutions.models import Employee
    from staff_points.selectors import yearly_points

    points = yearly_points(year, institution_id)
    people = dict((pk, (no, name)) for pk, no, name in Employee.objects.filter(pk__in=list(points))
                  .values_list("pk", "employee_no", "name"))
    rows = [{"employee_id": pk, "employee_no": people[pk][0], "name": people[pk][1], "total": p.total,
             "colour": p.colour, "deductions": p.deductions, "commendations": p.commendations}
            for pk, p in points.items() if pk in people and (not colour or p.colour == colour)]
    rows.sort(key=lambda r: (r["total"], r["employee_no"]))
    return rows
