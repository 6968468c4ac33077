"""The per-item summary (分项得分): each institution's weighted points on each basic item (项) of the
norms, written by the aggregation in the transaction that writes the results (`models.ItemResult`).

The rule is the basic score's (SCORING.md step 2) restricted to one item's basic indicators: the
weighted mean over the present sources, weights renormalised over them (plain mean when they sum
to 0), an entry missing on a submitted sheet counting 0, rounded half up to cents. It is applied
by the rule behind `rules.basic_score` itself (`rules.BasicRule`, prepared once per scheme and set
of present sources), on each source's sum over the item in tenths, so it cannot drift from the
total. The present sources and the per-item sums are the ones the results just written were
computed from (`services.compute_year` reads the submitted sheets' entries once, grouped per
institution, kind and item, for both): every institution with a result has one row per item of
its district's scheme, and nobody else has any. Item points are rounded separately, so their sum
may differ from `Result.basic` by a cent or two; `basic` stays the reference.

Set-based: the rules applied to plain values in Python, then on PostgreSQL one `COPY` and one
upsert that touches only rows whose points changed, and one delete of stale rows.
"""

from __future__ import annotations

import io
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from . import rules
from .models import (
    DistrictYear,
    Indicator,
    IndicatorKind,
    ItemResult,
)


def item_numbers(scheme_id: int) -> list[int]:
    """The items (by number) holding at least one basic indicator of the scheme, in order."""
    return sorted(set(Indicator.objects.filter(scheme_id=scheme_id, kind=IndicatorKind.BASIC, clause__isnull=False)
                      .values_list("clause__item__number", flat=True)))


def _years(district_years) -> list[DistrictYear]:
    return [district_years] if isinstance(district_years, DistrictYear) else list(district_years)


def compute_item_summary(district_years: DistrictYear | list[DistrictYear]) -> list[tuple[int, int, Decimal]]:
    """(institution id, item number, points) for every institution of the district-year(s) (one
    year) with a result and every item of its district's scheme, computed as the aggregation does."""
    return [(institution_id, number, points) for institution_id, number, points, _ in _compute(district_years)]


def _compute(district_years, results=None) -> list[tuple[int, int, Decimal, int]]:
    """compute_item_summary's rows, each with its institution's district id, from the aggregation's
    results (`services.compute_year`: present sources and per-item sums), computed here when not given."""
    from .services import compute_year, scheme_params

    years = _years(district_years)
    if not years:
        return []
    if results is None:
        results = compute_year(years)
    by_district = {dy.district_id: dy for dy in years}
    items = {scheme_id: item_numbers(scheme_id) for scheme_id in {dy.scheme_id for dy in years}}
    params = {scheme.pk: scheme_params(scheme) for scheme in {dy.scheme_id: dy.scheme for dy in years}.values()}
    if not any(items.values()) or not results:
        return []
    nothing = (0, 0, 0)
    # Many institutions share the same sources and sums: each distinct case goes through the rule once.
    memo: dict[tuple, Decimal] = {}
    out: list[tuple[int, int, Decimal, int]] = []
    append, remembered = out.append, memo.get
    for result in results:
        district_id = result.district_id
        sources = result.values.sources
        scheme_id = by_district[district_id].scheme_id
        entered = result.item_tenths.get
        for number in items[scheme_id]:
            values = entered(number, nothing)
            points = remembered((scheme_id, sources, values))
            if points is None:
                rule = rules.basic_rule(params[scheme_id], sources)
                points = memo[(scheme_id, sources, values)] = rule.tenths(values)
            append((result.institution_id, number, points, district_id))
    return out


def _write_postgresql(years: list[DistrictYear], rows: list[tuple[int, int, Decimal, int]],
                      only: list[int] | None = None) -> tuple[int, int]:
    """COPY into a temporary table, one upsert of the rows whose points changed, one delete of the rest
    (of the institutions `only` when given)."""
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
        restricted = f" AND r.institution_id IN ({', '.join(['%s'] * len(only))})" if only is not None else ""
        cursor.execute(f"DELETE FROM {table} r WHERE r.year = %s"  # noqa: S608
                       f" AND r.district_id IN ({', '.join(['%s'] * len(district_ids))})"
                       f" AND (r.institution_id, r.item_number) NOT IN"
                       f" (SELECT institution_id, item_number FROM scoring_itemresult_new){restricted}",
                       [year, *district_ids, *(only or ())])
        removed = cursor.rowcount
        cursor.execute("DROP TABLE scoring_itemresult_new")
    return written, removed


def _write_orm(dy: DistrictYear, rows: list[tuple[int, int, Decimal]],
               only: list[int] | None = None) -> tuple[int, int]:
    """The portable path (SQLite): compare with the stored rows, upsert the changed ones, delete the rest."""
    stored = ItemResult.objects.filter(year=dy.year, district_id=dy.district_id)
    if only is not None:
        stored = stored.filter(institution_id__in=only)
    existing = {(r.institution_id, r.item_number): r
                for r in stored.only("institution_id", "item_number", "points", "district_id")}
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


def write_item_summary(district_years: DistrictYear | list[DistrictYear], results=None,
                       only: list[int] | None = None) -> tuple[int, int]:
    """Rewrite the per-item summary of the district-year(s) (one year) from their results and
    entries; (written, removed). `results`: the results just computed (`services.compute_year`,
    which read the entries once for both); without them they are computed here.

    Called by `services.aggregate_year` right after the results are written, in the same transaction
    (and snapshot): the summary never disagrees with the results it sits beside. Idempotent: a second
    run on the same data writes nothing. `only` (institution ids; an incremental run, whose
    `results` are those institutions' only): the other institutions' rows are left as they are.
    """
    years = _years(district_years)
    if not years:
        return 0, 0
    if only is not None and results is None:
        raise ValueError("an incremental summary is written from the run's results")
    rows = _compute(years, results)
    if connection.vendor == "postgresql":
        return _write_postgresql(years, rows, only)
    written = removed = 0
    for dy in years:
        w, r = _write_orm(dy, [(i, n, p) for i, n, p, d in rows if d == dy.district_id], only)
        written, removed = written + w, removed + r
    return written, removed


__all__ = ["compute_item_summary", "item_numbers", "write_item_summary"]
