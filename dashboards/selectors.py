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

from django.conf import settings
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
from django.db.models.functions import Coalesce, ExtractMonth, ExtractYear, TruncDate
from django.utils import timezone

from institutions.models import District, Institution
from scoring.models import (
    Indicator,
    IndicatorKind,
    PointRecord,
    RecordKind,
    Result,
    Scheme,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
)

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


def item_scores(scheme: Scheme, scope: Scope, institution_id: int | None = None,
                indicators: list[dict] | None = None) -> dict:
    """Per item: the sum and best of institutions' weighted item scores, how many institutions, and
    (when asked) one institution's own score. One SQL statement."""
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


def item_rows(scheme: Scheme, scope: Scope, item_number: int, *, offset: int, limit: int) -> tuple[int, list]:
    """Institutions' weighted scores on one item, best first (a page, and how many in all)."""
    indicators = [i for i in basic_indicators(scheme) if i["item"] == item_number]
    sql, params = _weighted_sql(scheme, scope, "item", indicators)
    inst = Institution._meta.db_table
    page_sql = sql + f"""
        SELECT per.institution_id, i.code, i.name, per.v, COUNT(*) OVER ()
        FROM per JOIN {inst} i ON i.id = per.institution_id
        WHERE per.k = %s ORDER BY per.v DESC, i.code LIMIT %s OFFSET %s"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(page_sql, [*params, item_number, limit, offset])
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


def complaint_figures(scope: Scope, year: int) -> dict:
    """Counts by month × kind and by outcome, and the handling time of concluded cases (3 queries)."""
    tz = timezone.get_default_timezone()
    qs = _complaints(scope, year)
    by_month_kind: dict[tuple[int, str], int] = {}
    for row in (qs.annotate(m=ExtractMonth("received_at", tzinfo=tz)).values("m", "kind")
                .annotate(n=Count("id")).order_by()):
        by_month_kind[(row["m"], row["kind"])] = row["n"]
    concluded = qs.exclude(outcome="")
    by_outcome = {r["outcome"]: r["n"] for r in concluded.values("outcome").annotate(n=Count("id")).order_by()}
    # Calendar days from receipt to conclusion (Asia/Shanghai dates), summed in SQL.
    handled = concluded.filter(concluded_at__isnull=False).aggregate(
        n=Count("id"),
        days=Sum(ExpressionWrapper(TruncDate("concluded_at", tzinfo=tz) - TruncDate("received_at", tzinfo=tz),
                                   output_field=DurationField())))
    days = handled["days"]
    return {"by_month_kind": by_month_kind, "by_outcome": by_outcome, "handled": handled["n"],
            "handling_days": days.days if isinstance(days, dt.timedelta) else int(days or 0)}


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
    mean of its 1–5 scores is at least 4), counted in SQL: two grouped queries for any span of years.
    """
    from complaints.models import Complaint, SurveyResponse

    tz = timezone.get_default_timezone()
    start, _ = year_bounds(min(years))
    _, end = year_bounds(max(years))
    by_district = scope.city_id is not None
    keys = ["y", "m", *(["institution__district_id"] if by_district else [])]
    out: dict[tuple, dict] = defaultdict(lambda: {"rated": 0, "satisfied": 0})
    responses = (SurveyResponse.objects.filter(scope.q(), submitted_at__gte=start, submitted_at__lt=end,
                                               satisfied__isnull=False)
                 .annotate(y=ExtractYear("submitted_at", tzinfo=tz), m=ExtractMonth("submitted_at", tzinfo=tz))
                 .values(*keys).annotate(n=Count("id"), s=Count("id", filter=Q(satisfied=True))).order_by())
    for row in responses:
        entry = out[tuple(row[k] for k in keys)]
        entry["rated"] += row["n"]
        entry["satisfied"] += row["s"]
    rated = sum((Case(When(**{f"{f}__isnull": False}, then=Value(1)), default=Value(0)) for f in _RATINGS),
                Value(0))
    summed = sum((Coalesce(F(f), Value(0)) for f in _RATINGS), Value(0))
    ratings = (Complaint.objects.filter(scope.q(), kind="rating", received_at__gte=start, received_at__lt=end)
               .annotate(y=ExtractYear("received_at", tzinfo=tz), m=ExtractMonth("received_at", tzinfo=tz),
                         nr=ExpressionWrapper(rated, output_field=IntegerField()),
                         sr=ExpressionWrapper(summed, output_field=IntegerField()))
               .filter(nr__gt=0)
               .values(*keys).annotate(n=Count("id"), s=Count("id", filter=Q(sr__gte=4 * F("nr")))).order_by())
    for row in ratings:
        entry = out[tuple(row[k] for k in keys)]
        entry["rated"] += row["n"]
        entry["satisfied"] += row["s"]
    return dict(out)


_RATINGS = ("rating_attitude", "rating_efficiency", "rating_integrity")


def satisfaction_by_institution(scope: Scope, year: int, month: int | None, *, offset: int,
                                limit: int) -> tuple[int, list[dict]]:
    """Institutions' satisfaction in a year (or one month of it): the rows behind the satisfaction chart."""
    from complaints.models import Complaint, SurveyResponse

    tz = timezone.get_default_timezone()
    start, end = year_bounds(year)
    per: dict[int, dict] = defaultdict(lambda: {"rated": 0, "satisfied": 0})
    responses = SurveyResponse.objects.filter(scope.q(), submitted_at__gte=start, submitted_at__lt=end,
                                              satisfied__isnull=False)
    if month:
        responses = responses.annotate(m=ExtractMonth("submitted_at", tzinfo=tz)).filter(m=month)
    for row in responses.values("institution_id").annotate(n=Count("id"), s=Count("id", filter=Q(satisfied=True))
                                                           ).order_by():
        per[row["institution_id"]]["rated"] += row["n"]
        per[row["institution_id"]]["satisfied"] += row["s"]
    rated = sum((Case(When(**{f"{f}__isnull": False}, then=Value(1)), default=Value(0)) for f in _RATINGS),
                Value(0))
    summed = sum((Coalesce(F(f), Value(0)) for f in _RATINGS), Value(0))
    ratings = (Complaint.objects.filter(scope.q(), kind="rating", received_at__gte=start, received_at__lt=end)
               .annotate(nr=ExpressionWrapper(rated, output_field=IntegerField()),
                         sr=ExpressionWrapper(summed, output_field=IntegerField())).filter(nr__gt=0))
    if month:
        ratings = ratings.annotate(m=ExtractMonth("received_at", tzinfo=tz)).filter(m=month)
    for row in ratings.values("institution_id").annotate(n=Count("id"), s=Count("id", filter=Q(sr__gte=4 * F("nr")))
                                                         ).order_by():
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


def _scoped_institution_ids(scope: Scope) -> QuerySet:
    return Institution.objects.filter(scope.q("")).order_by().values("pk")


def _ack_counts() -> dict:
    within = settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS  # the warnings app's "on time"
    return {"delivered": Count("id"), "read": Count("id", filter=Q(read_at__isnull=False)),
            "acknowledged": Count("id", filter=Q(acknowledged_at__isnull=False)),
            "on_time": Count("id", filter=Q(acknowledged_at__lte=F("delivered_at") + dt.timedelta(days=within)))}


def acknowledgement_figures(scope: Scope, year: int, *, latest: int = 20) -> dict:
    """Totals, the latest warnings' rates and the rates per category for the year's warnings.

    One scan of the deliveries grouped by (warning, category): the totals and both breakdowns are
    sums of its rows (the warnings app's rates_total / rates_by_warning would scan three times).
    """
    from warnings_feed.models import Delivery, Warning

    rows = list(Delivery.objects.filter(scope.q(), warning_id__in=_year_warning_ids(year)).order_by()
                .values("warning_id", "institution__category").annotate(**_ack_counts()))
    keys = ("delivered", "read", "acknowledged", "on_time")
    total = {k: sum(r[k] for r in rows) for k in keys}
    per_warning: dict[int, dict] = {}
    per_category: dict[str, dict] = {}
    for row in rows:
        for bucket, key in ((per_warning, row["warning_id"]), (per_category, row["institution__category"])):
            entry = bucket.setdefault(key, dict.fromkeys(keys, 0))
            for k in keys:
                entry[k] += row[k]
    recent = list(Warning.objects.filter(pk__in=list(per_warning)).order_by("-publish_at", "-id")
                  .values("pk", "title", "names", "publish_at")[:latest])
    return {"total": total, "recent": recent, "per_warning": per_warning,
            "by_category": [{"institution__category": c, **v} for c, v in sorted(per_category.items())]}


def acknowledgement_by_institution(scope: Scope, year: int, *, offset: int, limit: int) -> tuple[int, list]:
    """Institutions' acknowledgement rates for the year's warnings, lowest first (a page, and how many)."""
    from warnings_feed.models import Delivery

    rows = list(Delivery.objects.filter(scope.q(), warning_id__in=_year_warning_ids(year)).order_by()
                .values("institution_id").annotate(**_ack_counts()))
    rows.sort(key=lambda r: (r["acknowledged"] / r["delivered"] if r["delivered"] else 1, r["institution_id"]))
    page = rows[offset:offset + limit]
    names = {pk: (code, name) for pk, code, name in Institution.objects.filter(
        pk__in=[r["institution_id"] for r in page]).values_list("pk", "code", "name")}
    return len(rows), [{**r, "code": names.get(r["institution_id"], ("", ""))[0],
                        "name": names.get(r["institution_id"], ("", ""))[1]} for r in page]


# --- employees of one institution ---------------------------------------------------------------


def employee_colours(institution_id: int, year: int) -> dict[str, int]:
    from scoring import employee_points

    return employee_points.colour_distribution(institution_id, year)


def employee_rows(institution_id: int, year: int, *, colour: str = "") -> list[dict]:
    """The institution's employees with their year's points and colour (one grouped query)."""
    from institutions.models import Employee
    from scoring import employee_points

    points = employee_points.yearly_points(year, institution_id)
    people = dict((pk, (no, name)) for pk, no, name in Employee.objects.filter(pk__in=list(points))
                  .values_list("pk", "employee_no", "name"))
    rows = [{"employee_id": pk, "employee_no": people[pk][0], "name": people[pk][1], "total": p.total,
             "colour": p.colour, "deductions": p.deductions, "commendations": p.commendations}
            for pk, p in points.items() if pk in people and (not colour or p.colour == colour)]
    rows.sort(key=lambda r: (r["total"], r["employee_no"]))
    return rows
