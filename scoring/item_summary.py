"""The per-item summary (分项得分): each institution's weighted points on each basic item (项) of the
norms, written by the aggregation in the transaction that writes the results (`models.ItemResult`).

The rule is the basic score's (SCORING.md step 2) restricted to one item's basic indicators: the
weighted mean over the present sources, weights renormalised over them (plain mean when they sum
to 0), an entry missing on a submitted sheet counting 0, rounded half up to cents. It is applied
by the rule behind `rules.basic_score` itself (`rules.BasicRule`, prepared once per scheme and set
of present sources), on each source's sum over the item in tenths, so it cannot drift from the
total. The present sources are the ones the results just written were computed from
(`Result.sources`), read in the same transaction: every institution with a result has one row per
item of its district's scheme, and nobody else has any. Item points are rounded separately, so
their sum may differ from `Result.basic` by a cent or two; `basic` stays the reference.

Set-based: one grouped query over the district's submitted sheets' entries (per institution and
item, one sum per source), the rules applied to plain values in Python, then on PostgreSQL one
`COPY` and one upsert that touches only rows whose points changed, and one delete of stale rows.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from institutions.models import Institution

from . import rules
from .models import (
    Assessment,
    DistrictYear,
    Indicator,
    IndicatorKind,
    ItemResult,
    NormClause,
    NormItem,
    Result,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
)


def _item_sums_sql(districts: int = 1) -> str:
    """(institution id, item number, then per source in rules.SOURCES order its points summed over the
    item, in tenths of a point) for the district-years' submitted sheets (`districts` of them, of one
    year; each district's entries counted against its own scheme's indicators).

    The districts' sheets and the schemes' indicator → item map are computed first (both small),
    then the sheets' entries fetched sheet by sheet through the (sheet) index, then met with the map;
    on PostgreSQL, MATERIALIZED keeps it that way (inlined, the planner joins the entries to sheets,
    assessments, institutions, clauses and items one by one, a third slower; and with the map joined
    to the sheets first it misjudged the size and looked up each (sheet, indicator) pair on its own:
    165,000 index probes for a batch of 2,040 institutions). Tenths are exact (points have one
    decimal place) and hash fast. Standard SQL otherwise (CASE inside SUM, not FILTER), so SQLite
    runs the same statement.
    """
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    sums = ", ".join(f"CAST(ROUND(SUM(CASE WHEN x.source = '{source}' THEN x.points END) * 10) AS INTEGER)"
                     for source in rules.SOURCES)
    return f"""
WITH ds AS {materialized}(
    SELECT s.id, a.institution_id, s.source, dy.scheme_id
    FROM {ScoreSheet._meta.db_table} s
    JOIN {Assessment._meta.db_table} a ON a.id = s.assessment_id
    JOIN {Institution._meta.db_table} inst ON inst.id = a.institution_id
    JOIN {DistrictYear._meta.db_table} dy ON dy.district_id = inst.district_id AND dy.year = a.year
    WHERE a.year = %s AND inst.district_id IN ({", ".join(["%s"] * districts)}) AND s.status = %s
), m AS {materialized}(
    SELECT i.id, i.scheme_id, n.number
    FROM {Indicator._meta.db_table} i
    JOIN {NormClause._meta.db_table} c ON c.id = i.clause_id
    JOIN {NormItem._meta.db_table} n ON n.id = c.item_id
    WHERE i.scheme_id IN (SELECT DISTINCT scheme_id FROM ds) AND i.kind = %s
), x AS {materialized}(
    SELECT ds.institution_id, ds.scheme_id, ds.source, e.indicator_id, e.points
    FROM ds JOIN {SheetEntry._meta.db_table} e ON e.sheet_id = ds.id
    WHERE e.points IS NOT NULL
)
SELECT x.institution_id, m.number, {sums}
FROM x JOIN m ON m.id = x.indicator_id AND m.scheme_id = x.scheme_id
GROUP BY x.institution_id, m.number
"""  # noqa: S608 (table names from the models' meta; values are parameters)


def item_numbers(scheme_id: int) -> list[int]:
    """The items (by number) holding at least one basic indicator of the scheme, in order."""
    return sorted(set(Indicator.objects.filter(scheme_id=scheme_id, kind=IndicatorKind.BASIC, clause__isnull=False)
                      .values_list("clause__item__number", flat=True)))


def _years(district_years) -> list[DistrictYear]:
    return [district_years] if isinstance(district_years, DistrictYear) else list(district_years)


def compute_item_summary(district_years: DistrictYear | list[DistrictYear]) -> list[tuple[int, int, Decimal]]:
    """(institution id, item number, points) for every institution of the district-year(s) (one
    year) with a result and every item of its district's scheme, from the results' present sources
    and the submitted sheets' entries."""
    return [(institution_id, number, points) for institution_id, number, points, _ in _compute(district_years)]


def _compute(district_years) -> list[tuple[int, int, Decimal, int]]:
    """compute_item_summary's rows, each with its institution's district id."""
    from .services import scheme_params

    years = _years(district_years)
    if not years:
        return []
    by_district = {dy.district_id: dy for dy in years}
    items = {scheme_id: item_numbers(scheme_id) for scheme_id in {dy.scheme_id for dy in years}}
    params = {scheme.pk: scheme_params(scheme) for scheme in {dy.scheme_id: dy.scheme for dy in years}.values()}
    present = {pk: (district_id, tuple(s for s in rules.SOURCES if s in sources))
               for pk, district_id, sources in Result.objects.filter(year=years[0].year, district_id__in=by_district)
               .values_list("institution_id", "district_id", "sources")}
    if not any(items.values()) or not present:
        return []
    tenths: dict[tuple[int, int], tuple[int, int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_item_sums_sql(len(by_district)), [years[0].year, *by_district, SheetStatus.SUBMITTED,
                                                          IndicatorKind.BASIC])
        for institution_id, number, own, inspection, third_party in cursor.fetchall():
            tenths[(institution_id, number)] = (own or 0, inspection or 0, third_party or 0)
    nothing = (0, 0, 0)
    # Many institutions share the same sources and sums: each distinct case goes through the rule once.
    memo: dict[tuple, Decimal] = {}
    out: list[tuple[int, int, Decimal, int]] = []
    append, remembered, entered = out.append, memo.get, tenths.get
    for institution_id, (district_id, sources) in present.items():
        if not sources:
            continue
        scheme_id = by_district[district_id].scheme_id
        for number in items[scheme_id]:
            values = entered((institution_id, number), nothing)
            points = remembered((scheme_id, sources, values))
            if points is None:
                rule = rules.basic_rule(params[scheme_id], sources)
                points = memo[(scheme_id, sources, values)] = rule.tenths(values)
            append((institution_id, number, points, district_id))
    return out


def _write_postgresql(years: list[DistrictYear], rows: list[tuple[int, int, Decimal, int]]) -> tuple[int, int]:
    """COPY into a temporary table, one upsert of the rows whose points changed, one delete of the rest."""
    table = ItemResult._meta.db_table
    year = years[0].year
    district_ids = [dy.district_id for dy in years]
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    for institution_id, number, points, district_id in rows:
        buffer.write(f"{institution_id}\t{year}\t{district_id}\t{number}\t{points}\t{now}\n")
    buffer.seek(0)
    names = "institution_id, year, district_id, item_number, points, computed_at"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE scoring_itemresult_new ON COMMIT DROP AS"  # noqa: S608
                       f" SELECT {names} FROM {table} WITH NO DATA")
        cursor.cursor.copy_expert(f"COPY scoring_itemresult_new ({names}) FROM STDIN", buffer)
        cursor.execute(f"INSERT INTO {table} AS r ({names}) SELECT {names} FROM scoring_itemresult_new"  # noqa: S608
                       f" ON CONFLICT (institution_id, year, item_number) DO UPDATE"
                       f" SET district_id = EXCLUDED.district_id, points = EXCLUDED.points,"
                       f" computed_at = EXCLUDED.computed_at"
                       f" WHERE (r.district_id, r.points) IS DISTINCT FROM (EXCLUDED.district_id, EXCLUDED.points)")
        written = cursor.rowcount
        # NOT IN, not NOT EXISTS: a hashed subplan whatever the table's statistics say (with statistics
        # of an empty table, NOT EXISTS became a nested loop: a minute for 50,000 rows).
        cursor.execute(f"DELETE FROM {table} r WHERE r.year = %s"  # noqa: S608
                       f" AND r.district_id IN ({', '.join(['%s'] * len(district_ids))})"
                       f" AND (r.institution_id, r.item_number) NOT IN"
                       f" (SELECT institution_id, item_number FROM scoring_itemresult_new)", [year, *district_ids])
        removed = cursor.rowcount
        cursor.execute("DROP TABLE scoring_itemresult_new")
    return written, removed


def _write_orm(dy: DistrictYear, rows: list[tuple[int, int, Decimal]]) -> tuple[int, int]:
    """The portable path (SQLite): compare with the stored rows, upsert the changed ones, delete the rest."""
    existing = {(r.institution_id, r.item_number): r for r in ItemResult.objects.filter(
        year=dy.year, district_id=dy.district_id).only("institution_id", "item_number", "points", "district_id")}
    now = timezone.now()
    changed = [ItemResult(institution_id=i, year=dy.year, district_id=dy.district_id, item_number=n, points=p,
                          computed_at=now)
               for i, n, p in rows
               if (old := existing.get((i, n))) is None or old.points != p or old.district_id != dy.district_id]
    ItemResult.objects.bulk_create(changed, batch_size=2000, update_conflicts=True,
                                   unique_fields=["institution", "year", "item_number"],
                                   update_fields=["district", "points", "computed_at"])
    kept = {(i, n) for i, n, _p in rows}
    stale = [r.pk for key, r in existing.items() if key not in kept]
    removed = ItemResult.objects.filter(pk__in=stale).delete()[0] if stale else 0
    return len(changed), removed


def write_item_summary(district_years: DistrictYear | list[DistrictYear]) -> tuple[int, int]:
    """Rewrite the per-item summary of the district-year(s) (one year) from their results and
    entries; (written, removed).

    Called by `services.aggregate_year` right after the results are written, in the same transaction
    (and snapshot): the summary never disagrees with the results it sits beside. Idempotent: a second
    run on the same data writes nothing.
    """
    years = _years(district_years)
    if not years:
        return 0, 0
    rows = _compute(years)
    if connection.vendor == "postgresql":
        return _write_postgresql(years, rows)
    written = removed = 0
    for dy in years:
        w, r = _write_orm(dy, [(i, n, p) for i, n, p, d in rows if d == dy.district_id])
        written, removed = written + w, removed + r
    return written, removed


__all__ = ["compute_item_summary", "item_numbers", "write_item_summary"]
