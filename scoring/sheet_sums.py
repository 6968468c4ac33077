"""Each submitted sheet's sums, stored with the sheet when it is submitted (`ScoreSheet.sums`), so that an
aggregation reads one row per sheet instead of every entry (issue 16).

A sheet's entries cannot change while it is submitted (`services.save_entry` and the import refuse;
a correction first returns the sheet, which clears its sums), so what the rules need of them is
computed once, at submission, and read by every aggregation after it:

    {"key": <the scheme's map key>, "red": hits, "bonus": tenths, "items": [[item number, tenths], …],
     "other": tenths}

kept as compact JSON text (`dumps`; the column is text since scoring 0020: PostgreSQL's jsonb formats
every number again on each read, two thirds of the time an aggregation took to read a batch's sums);

- ``items``: the basic points summed per item (项) of the norms, in tenths (points have one decimal
  place, so tenths are exact integers); ``other``: the basic points of indicators outside every clause;
- ``bonus``: the bonus points; ``red``: the red-line indicators hit;
- ``key``: what the sums were counted against – the district's scheme's indicators with their kind
  and item (`scheme_keys`). Only the indicators of the district-year's scheme count (an entry of
  another scheme's indicator counts nowhere), and which item an indicator belongs to may change while
  a scheme is not frozen: sums whose key is not the scheme's key now are not used, the aggregation
  counts that sheet's entries again (as it does for a sheet submitted before sums were stored) and
  stores the sums after its transaction (`store`, only on a sheet still as it was read).

The portal never changes a submitted sheet's entries (saving and importing refuse under the sheet's
lock; returning clears the sums). For a change made behind its back (SQL) there are two safety nets:
an incremental re-aggregation counts the changed institutions' entries (a handful), and a whole run
counts again the sheets of institutions with an entry of a submitted sheet saved since the district's
last aggregation. Neither covers such a change before a district's first aggregation, nor one whose
recount could not be stored afterwards (logged; the next run trusts the old sums again).

`fill` stores the sums of a year's submitted sheets that have none (after an upgrade, or data loaded
in bulk): `manage.py aggregate_scores` does not need it, it only makes the first aggregation as fast
as the next.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import orjson
from django.db import connection, transaction

from institutions.models import Institution

from .models import (
    Assessment,
    DistrictYear,
    Indicator,
    IndicatorKind,
    NormClause,
    NormItem,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
)

# SQLite's limit of variables in one statement is 32,766; PostgreSQL's of parameters 65,535.
CHUNK = 5000


@dataclass(frozen=True)
class SheetSums:
    """A submitted sheet's sums (the module's docstring). `basic`: every basic point of the sheet, in
    tenths (the items' and the others'), summed once when the sums are made."""

    key: str
    items: tuple[tuple[int, int], ...]
    other: int
    bonus: int
    red: int
    basic: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "basic", _basic(self.other, self.items))

    def as_json(self) -> dict:
        # In the order PostgreSQL's jsonb kept the keys (shorter first), as the documents stored before
        # the column became text (scoring 0020).
        return {"key": self.key, "red": self.red, "bonus": self.bonus, "items": [list(pair) for pair in self.items],
                "other": self.other}

    @classmethod
    def parse(cls, raw) -> SheetSums | None:
        """The stored value (a dict, or the JSON text a raw cursor returns), each number through `int()`
        (a number with a fraction refused);
        None when absent or not readable. (The aggregation reads through `read`.)"""
        if raw is None:
            return None
        try:
            value = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
            items = value["items"]
            if not isinstance(items, (list, tuple)):
                raise TypeError("items are not a list of pairs")
            return cls(value["key"], tuple(map(_pair, items)), _whole(value["other"]), _whole(value["bonus"]),
                       _whole(value["red"]))
        except (ValueError, TypeError, KeyError):
            return None


def _pair(pair) -> tuple[int, int]:
    """An item's [number, tenths], each whole; anything but a list or tuple of two refused (a string of two
    characters would otherwise unpack as two digits)."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise TypeError(f"not a pair: {pair!r}")
    return _whole(pair[0]), _whole(pair[1])


def _whole(value) -> int:
    """`int(value)`, refusing a number with a fraction (int() would cut it off) and a float beyond 2⁵³
    (orjson reads an integer too long for 64 bits as one, no longer exact)."""
    if isinstance(value, float) and not (value.is_integer() and abs(value) <= 2 ** 53):
        raise ValueError(f"not a whole number: {value!r}")
    return int(value)


def _basic(other: int, items) -> int:
    """Every basic point of a sheet, in tenths: the others' and the items' ([number, tenths] pairs)."""
    return other + sum(map(itemgetter(1), items))


def _plain(items, other, bonus, red) -> bool:
    """Whether parsed sums are of the portal's own shape, integers only ([number, tenths] pairs):
    then used as they are. (orjson reads an integer beyond 64 bits as a float, and a float is not this
    shape; `type(…) is int` refuses true and false, which `int()` would take.)"""
    if type(other) is not int or type(bonus) is not int or type(red) is not int or type(items) is not list:
        return False
    for pair in items:
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not int or type(pair[1]) is not int:
            return False
    return True


def read(raw, key: str) -> tuple[Sequence[Sequence[int]], int, int, int] | None:
    """What the aggregation needs of stored sums, (items, basic, bonus, red) as `SheetSums` has them,
    when they were counted against `key` (the scheme's map now); None when absent, not readable or
    counted against another map. The aggregation reads half a million of them in a nation-wide run:
    sums of the portal's own shape (`_plain`: integers only, checked value by value after orjson
    parsed them; a regular expression over the text took twice as long as the parse) are used as
    parsed (items as [number, tenths] lists), without a `SheetSums` made for each; anything else goes
    through `SheetSums.parse`."""
    if raw is None:
        return None
    try:
        value = orjson.loads(raw) if isinstance(raw, (str, bytes)) else raw
        if value["key"] != key:
            return None
        items, other, bonus, red = value["items"], value["other"], value["bonus"], value["red"]
    except (ValueError, TypeError, KeyError):
        return None
    if _plain(items, other, bonus, red):
        return items, _basic(other, items), bonus, red
    sums = SheetSums.parse(value)
    return None if sums is None else (sums.items, sums.basic, sums.bonus, sums.red)


def dumps(sums: SheetSums) -> str:
    """The stored text of `sums`: what the `ScoreSheet.sums` field writes (one definition of the shape)."""
    return ScoreSheet._meta.get_field("sums").get_prep_value(sums.as_json())


def scheme_keys(scheme_ids: Iterable[int]) -> dict[int, str]:
    """scheme id -> its map key: a digest of its indicators' (id, kind, item number), in one query."""
    ids = sorted(set(scheme_ids))
    parts: dict[int, list] = {scheme_id: [] for scheme_id in ids}
    for scheme_id, indicator_id, kind, number in (
            Indicator.objects.filter(scheme_id__in=ids).order_by("scheme_id", "id")
            .values_list("scheme_id", "id", "kind", "clause__item__number")):
        parts[scheme_id].append((indicator_id, kind, number if kind == IndicatorKind.BASIC else None))
    return {scheme_id: hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:32] for scheme_id, rows in parts.items()}


def _entry_sums_sql(sheets: int) -> str:
    """Per sheet (of the `sheets` ids), kind and item: the points in tenths and the hits, counting only
    the indicators of the scheme of the sheet's district-year (the shape of `services`' former grouped
    read: the sheets and the schemes' indicator map first, MATERIALIZED on PostgreSQL, then the entries
    fetched sheet by sheet through the (sheet) index, and only then met with the map)."""
    materialized = "MATERIALIZED " if connection.vendor == "postgresql" else ""
    return f"""
WITH ds AS {materialized}(
    SELECT s.id, dy.scheme_id
    FROM {ScoreSheet._meta.db_table} s
    JOIN {Assessment._meta.db_table} a ON a.id = s.assessment_id
    JOIN {Institution._meta.db_table} inst ON inst.id = a.institution_id
    JOIN {DistrictYear._meta.db_table} dy ON dy.district_id = inst.district_id AND dy.year = a.year
    WHERE s.id IN ({", ".join(["%s"] * sheets)})
), m AS {materialized}(
    SELECT i.id, i.scheme_id, i.kind, CASE WHEN i.kind = 'basic' THEN n.number END AS number
    FROM {Indicator._meta.db_table} i
    LEFT JOIN {NormClause._meta.db_table} c ON c.id = i.clause_id
    LEFT JOIN {NormItem._meta.db_table} n ON n.id = c.item_id
    WHERE i.scheme_id IN (SELECT DISTINCT scheme_id FROM ds)
), y AS (
    SELECT ds.id AS sheet_id, ds.scheme_id, e.indicator_id, SUM(e.points) AS points,
           SUM(CASE WHEN e.hit THEN 1 ELSE 0 END) AS hits
    FROM ds JOIN {SheetEntry._meta.db_table} e ON e.sheet_id = ds.id
    GROUP BY ds.id, ds.scheme_id, e.indicator_id
)
SELECT y.sheet_id, m.scheme_id, m.kind, m.number, CAST(ROUND(SUM(y.points) * 10) AS INTEGER), SUM(y.hits)
FROM y JOIN m ON m.id = y.indicator_id AND m.scheme_id = y.scheme_id
GROUP BY y.sheet_id, m.scheme_id, m.kind, m.number
"""  # noqa: S608 (table names from the models' meta; values are parameters)


def from_entries(sheet_ids: Iterable[int], keys: dict[int, str] | None = None) -> dict[int, SheetSums]:
    """sheet id -> its sums counted from its entries now (a sheet without entries of its scheme: zeros),
    in one statement per CHUNK sheets. `keys`: the schemes' keys when the caller has them."""
    ids = sorted(set(sheet_ids))
    if not ids:
        return {}
    acc: dict[int, list] = {}  # sheet id -> [scheme id, items, other, bonus, red]
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            cursor.execute(_entry_sums_sql(len(chunk)), chunk)
            for sheet_id, scheme_id, kind, number, tenths, hits in cursor.fetchall():
                row = acc.get(sheet_id)
                if row is None:
                    row = acc[sheet_id] = [scheme_id, [], 0, 0, 0]
                tenths = int(tenths or 0)  # NULL: only empty points; PostgreSQL's SUM of integers is numeric
                if kind == IndicatorKind.BASIC:
                    if number is None:
                        row[2] += tenths
                    else:
                        row[1].append((number, tenths))
                elif kind == IndicatorKind.BONUS:
                    row[3] += tenths
                elif kind == IndicatorKind.RED_LINE:
                    row[4] += int(hits or 0)
    missing = [sheet_id for sheet_id in ids if sheet_id not in acc]
    for sheet_id, scheme_id in (_schemes_of(missing) if missing else {}).items():
        acc[sheet_id] = [scheme_id, [], 0, 0, 0]  # no entry of the scheme: the sheet still counts, with zeros
    keys = dict(keys or {})
    unknown = {row[0] for row in acc.values()} - keys.keys()
    if unknown:
        keys.update(scheme_keys(unknown))
    return {sheet_id: SheetSums(keys[scheme_id], tuple(sorted(items)), other, bonus, red)
            for sheet_id, (scheme_id, items, other, bonus, red) in acc.items()}



def _schemes_of(sheet_ids: list[int]) -> dict[int, int]:
    """sheet id -> the scheme of its district-year (a sheet whose district-year does not exist: absent)."""
    out: dict[int, int] = {}
    for start in range(0, len(sheet_ids), CHUNK):
        sheets = list(ScoreSheet.objects.filter(pk__in=sheet_ids[start:start + CHUNK])
                      .values_list("pk", "assessment__institution__district_id", "assessment__year"))
        schemes = {(district_id, year): scheme_id for district_id, year, scheme_id in DistrictYear.objects.filter(
            district_id__in={d for _, d, _ in sheets}, year__in={y for _, _, y in sheets})
            .values_list("district_id", "year", "scheme_id")}
        out.update({sheet_id: schemes[district_id, year] for sheet_id, district_id, year in sheets
                    if (district_id, year) in schemes})
    return out


def stamp(sheet: ScoreSheet) -> None:
    """Sets `sheet.sums` from its entries (at submission, before the sheet is saved; None when its
    district has no year to count against)."""
    counted = from_entries([sheet.pk]).get(sheet.pk)
    sheet.sums = counted.as_json() if counted else None


@dataclass(frozen=True)
class Pending:
    """Sums an aggregation counted from the entries, to be stored if the sheet is still as it read it."""

    sheet_id: int
    updated_at: object
    sums: SheetSums


def store(pending: Iterable[Pending]) -> int:
    """Stores the sums on each sheet still submitted and not changed since it was read (its `updated_at`
    unchanged: a returned or resubmitted sheet is left alone); returns how many were stored. Not a
    change of the sheet: `updated_at` is kept (an aggregation of only the changes must not see one)."""
    rows = sorted(pending, key=lambda p: p.sheet_id)  # rows locked in one order by every writer
    stored = 0
    table = ScoreSheet._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"UPDATE {table} s SET sums = v.sums"  # noqa: S608 (table name from the model's meta)
                    " FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) AS v(id, at, sums)"
                    " WHERE s.id = v.id AND s.updated_at = v.at AND s.status = %s",
                    [[p.sheet_id for p in chunk], [p.updated_at for p in chunk],
                     [dumps(p.sums) for p in chunk], SheetStatus.SUBMITTED])
                stored += cursor.rowcount
            else:
                for p in chunk:
                    stored += ScoreSheet.objects.filter(pk=p.sheet_id, updated_at=p.updated_at,
                                                        status=SheetStatus.SUBMITTED).update(sums=p.sums.as_json())
    return stored


def fill(year: int, district_ids: Iterable[int] | None = None) -> int:
    """Stores the sums of every submitted sheet of `year` (of those districts) whose sums are missing or
    counted against another map than its scheme's now; returns how many were stored. District by
    district in chunks, each in its own short transaction."""
    years = DistrictYear.objects.filter(year=year)
    if district_ids is not None:
        years = years.filter(district_id__in=list(district_ids))
    by_district = dict(years.values_list("district_id", "scheme_id"))
    keys = scheme_keys(set(by_district.values()))
    sheets = (ScoreSheet.objects.filter(status=SheetStatus.SUBMITTED, assessment__year=year,
                                        assessment__institution__district_id__in=list(by_district))
              .values_list("pk", "updated_at", "sums", "assessment__institution__district_id").order_by("pk"))
    due: dict[int, list[tuple[int, object]]] = defaultdict(list)
    for sheet_id, updated_at, raw, district_id in sheets.iterator(chunk_size=CHUNK):
        sums = SheetSums.parse(raw)
        if sums is None or sums.key != keys[by_district[district_id]]:
            due[district_id].append((sheet_id, updated_at))
    stored, batch = 0, []
    for district_id in sorted(due):
        batch += due[district_id]
        if len(batch) >= CHUNK:
            stored += _fill_batch(batch, keys)
            batch = []
    return stored + (_fill_batch(batch, keys) if batch else 0)


def _fill_batch(batch: list[tuple[int, object]], keys: dict[int, str]) -> int:
    counted = from_entries([sheet_id for sheet_id, _ in batch], keys)
    return store(Pending(sheet_id, updated_at, counted[sheet_id]) for sheet_id, updated_at in batch
                 if sheet_id in counted)


__all__ = ["Pending", "SheetSums", "dumps", "fill", "from_entries", "read", "scheme_keys", "stamp", "store"]
