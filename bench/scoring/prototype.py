"""Where `aggregate_year` spends its time, and a prototype that spends less.

    .venv/bin/python bench/scoring/prototype.py --database-url postgres://…/cf_bench_nation [--repeat 1]

Runs, on a database made by generate.py, starting from no results and assessments in_review (as
run.py resets them, and resets them again at the end):

* ``current``  – a phase-timed mirror of ``scoring.services.aggregate_year`` (the version of
  2026-11-27; keep it in step if services.py changes): the grouped query and its iteration, the
  per-institution arithmetic and ``Result`` objects, the ranks, loading the existing results,
  the comparison, ``bulk_create`` and the assessments' state update;
* ``proposed`` – the same job written for PostgreSQL as set-based as the rules allow: the
  entries aggregated per sheet first (a parallel plan, ``work_mem`` raised for the transaction), the
  rules of ``scoring.rules`` applied to plain tuples, and the results written through ``COPY`` into
  a temporary table and one ``INSERT … ON CONFLICT DO UPDATE … WHERE … IS DISTINCT FROM``, so that
  unchanged rows are neither compared in Python nor written;

each twice in a row (the second call is the idempotent case: it must write nothing), and checks
that both write the same results.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import defaultdict
from decimal import Decimal

from benchlib import YEAR, setup_django


class Phases:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter()
        self._start = self._last

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + now - self._last
        self._last = now

    @property
    def total(self) -> float:
        return self._last - self._start


# --------------------------------------------------------------------------------------------
# The current code, phase by phase (mirror of scoring/services.py aggregate_year + compute_year)


def current(year: int, phases: Phases):
    from django.db import connection, transaction
    from django.utils import timezone

    from scoring import rules
    from scoring import services as s
    from scoring.models import AssessmentState, Result, ResultStatus, Scheme, SchemeStatus, Source

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        scheme = Scheme.objects.select_for_update().filter(year=year).first()
        phases.mark("start, lock scheme")
        params = s.scheme_params(scheme)
        per_institution: dict[int, dict] = defaultdict(lambda: {"present": [], "basic": {}, "bonus": Decimal(0),
                                                                "red": False, "category": None})
        for row in s._sheet_sums(scheme.year).iterator(chunk_size=5000):
            acc = per_institution[row["assessment__institution_id"]]
            acc["present"].append(row["source"])
            acc["basic"][row["source"]] = row["basic"] or Decimal(0)
            if row["source"] == Source.INSPECTION:
                acc["bonus"] = row["bonus"] or Decimal(0)
            acc["red"] = acc["red"] or row["red"] > 0
            acc["category"] = row["assessment__institution__category"]
        phases.mark("grouped query + iteration (server-side cursor)")
        counts = s.complaint_counts(scheme.year)
        phases.mark("complaint counts")
        now = timezone.now()
        results = []
        for institution_id, acc in per_institution.items():
            substantiated, partial = counts.get(institution_id, (0, 0))
            values = rules.compute_from_sums(params, acc["present"], acc["basic"], acc["bonus"], acc["red"],
                                             substantiated, partial)
            if values is None:
                continue
            results.append(Result(
                institution_id=institution_id, year=scheme.year, category=acc["category"], basic=values.basic,
                bonus=values.bonus, deduction=values.deduction, total=values.total, red_line=values.red_line,
                colour=values.colour, rank=0, category_rank=0,
                status=ResultStatus.PUBLISHED if scheme.status == SchemeStatus.PUBLISHED else values.status,
                sources=list(values.sources), fiscal_tender=values.linkage,
                complaints_substantiated=substantiated, complaints_partial=partial, computed_at=now))
        phases.mark("rules.compute_from_sums + Result objects")
        s._assign_ranks(results)
        phases.mark("ranks")
        new_results = results
        existing = {r.institution_id: r for r in Result.objects.filter(year=year)}
        phases.mark("load existing results")
        changed = [r for r in new_results if r.institution_id not in existing
                   or any(getattr(r, f) != getattr(existing[r.institution_id], f) for f in s.COMPARED_FIELDS)]
        phases.mark("compare")
        Result.objects.bulk_create(changed, batch_size=2000, update_conflicts=True,
                                   unique_fields=["institution", "year"],
                                   update_fields=[*s.COMPARED_FIELDS, "run", "computed_at"])
        phases.mark("bulk_create (upsert)")
        kept = {r.institution_id for r in new_results}
        stale = [pk for pk in existing if pk not in kept]
        removed = Result.objects.filter(year=year, institution_id__in=stale).delete()[0] if stale else 0
        phases.mark("delete stale")
        scored = [r.institution_id for r in new_results]
        (s.Assessment.objects.filter(year=year, institution_id__in=scored, state=AssessmentState.IN_REVIEW)
         .update(state=AssessmentState.SCORED, updated_at=timezone.now()))
        phases.mark("assessments in_review → scored (IN list)")
        return len(new_results), len(changed), removed


# --------------------------------------------------------------------------------------------
# The proposal


SHEET_SUMS_SQL = """
SELECT a.institution_id, inst.category, s.source, x.basic, x.bonus, x.red
FROM scoring_scoresheet s
JOIN scoring_assessment a ON a.id = s.assessment_id
JOIN institutions_institution inst ON inst.id = a.institution_id
LEFT JOIN (
    SELECT e.sheet_id,
           SUM(e.points) FILTER (WHERE i.kind = 'basic') AS basic,
           SUM(e.points) FILTER (WHERE i.kind = 'bonus') AS bonus,
           COUNT(*) FILTER (WHERE i.kind = 'red_line' AND e.hit) AS red
    FROM scoring_sheetentry e
    JOIN scoring_indicator i ON i.id = e.indicator_id
    WHERE i.scheme_id = %(scheme)s
    GROUP BY e.sheet_id
) x ON x.sheet_id = s.id
WHERE a.year = %(year)s AND s.status = 'submitted'
"""

SUMS_VIA = "sql"  # or "orm": the same per-sheet sums as two ORM queries (see orm_sheet_sums)


def orm_sheet_sums(scheme) -> list[tuple]:
    """SHEET_SUMS_SQL in the ORM: the scheme's entries summed per sheet (inner join with the indicators
    only, so PostgreSQL 15 may run it in parallel), then the year's submitted sheets, joined in Python,
    so that a submitted sheet without entries still counts (as 0 points)."""
    from django.db.models import Count, Q, Sum

    from scoring.models import IndicatorKind, ScoreSheet, SheetEntry, SheetStatus

    sums = {
        sheet_id: (basic, bonus, red)
        # Only the tiny indicator table is joined to the entries: the scheme is the year's, and sheets
        # that are not submitted are dropped below, when the sums meet the list of submitted sheets.
        for sheet_id, basic, bonus, red in SheetEntry.objects.filter(indicator__scheme=scheme)
        .values("sheet_id")
        .annotate(basic=Sum("points", filter=Q(indicator__kind=IndicatorKind.BASIC)),
                  bonus=Sum("points", filter=Q(indicator__kind=IndicatorKind.BONUS)),
                  red=Count("pk", filter=Q(indicator__kind=IndicatorKind.RED_LINE, hit=True)))
        .order_by()
        .values_list("sheet_id", "basic", "bonus", "red")
    }
    rows = []
    empty = (None, None, 0)
    for sheet_id, source, institution_id, category in ScoreSheet.objects.filter(
            assessment__year=scheme.year, status=SheetStatus.SUBMITTED).values_list(
            "pk", "source", "assessment__institution_id", "assessment__institution__category").order_by():
        rows.append((institution_id, category, source, *sums.get(sheet_id, empty)))
    return rows


RESULT_COLUMNS = ("institution_id", "year", "category", "basic", "bonus", "deduction", "total", "red_line",
                  "colour", "rank", "category_rank", "status", "sources", "fiscal_tender",
                  "complaints_substantiated", "complaints_partial", "run_id", "computed_at")
COMPARED = ("category", "basic", "bonus", "deduction", "total", "red_line", "colour", "rank", "category_rank",
            "status", "sources", "fiscal_tender", "complaints_substantiated", "complaints_partial")


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def proposed(year: int, phases: Phases, run_id: int | None = None):
    from django.db import connection, transaction
    from django.utils import timezone

    from scoring import rules
    from scoring import services as s
    from scoring.models import Scheme, SchemeStatus

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            # 4 MB (the server default) makes the 510,000-group hash aggregate spill to disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        scheme = Scheme.objects.select_for_update().filter(year=year).first()
        phases.mark("start, lock scheme")
        params = s.scheme_params(scheme)
        # A client-side cursor: PostgreSQL never runs a DECLAREd (server-side) cursor in parallel.
        if SUMS_VIA == "orm":
            rows = orm_sheet_sums(scheme)
        else:
            with connection.cursor() as cursor:
                cursor.execute(SHEET_SUMS_SQL, {"scheme": scheme.pk, "year": year})
                rows = cursor.fetchall()
        phases.mark(f"per-sheet sums query, fetched (client-side cursor, {SUMS_VIA})")
        zero = Decimal(0)
        per_institution: dict[int, list] = {}
        for institution_id, category, source, basic, bonus, red in rows:
            acc = per_institution.get(institution_id)
            if acc is None:
                acc = per_institution[institution_id] = [category, [], {}, zero, False]
            acc[1].append(source)
            acc[2][source] = basic or zero
            if source == "inspection":
                acc[3] = bonus or zero
            if red:
                acc[4] = True
        phases.mark("group rows per institution")
        counts = s.complaint_counts(year)
        phases.mark("complaint counts")
        published = scheme.status == SchemeStatus.PUBLISHED
        computed = []
        for institution_id, (category, present, basic, bonus, red) in per_institution.items():
            substantiated, partial = counts.get(institution_id, (0, 0))
            values = rules.compute_from_sums(params, present, basic, bonus, red, substantiated, partial)
            if values is not None:
                computed.append((institution_id, category, values, substantiated, partial))
        phases.mark("rules.compute_from_sums")
        ranks = rules.competition_ranks([(v.red_line, v.total) for _, _, v, _, _ in computed])
        category_ranks = [0] * len(computed)
        by_category: dict[str, list[int]] = defaultdict(list)
        for index, (_, category, _, _, _) in enumerate(computed):
            by_category[category].append(index)
        for indexes in by_category.values():
            for index, rank in zip(indexes, rules.competition_ranks(
                    [(computed[i][2].red_line, computed[i][2].total) for i in indexes]), strict=True):
                category_ranks[index] = rank
        phases.mark("ranks")
        now = timezone.now().isoformat()
        buffer = io.StringIO()
        for index, (institution_id, category, v, substantiated, partial) in enumerate(computed):
            status = "published" if published else v.status
            row = (institution_id, year, category, v.basic, v.bonus, v.deduction, v.total, v.red_line, v.colour,
                   ranks[index], category_ranks[index], status, json.dumps(list(v.sources)), v.linkage,
                   substantiated, partial, run_id, now)
            buffer.write("\t".join(map(_copy_text, row)) + "\n")
        buffer.seek(0)
        phases.mark("COPY text")
        columns = ", ".join(RESULT_COLUMNS)
        changed_condition = (f"({', '.join('r.' + c for c in COMPARED)}) IS DISTINCT FROM "
                             f"({', '.join('EXCLUDED.' + c for c in COMPARED)})")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY TABLE scoring_result_new ON COMMIT DROP AS"
                           f" SELECT {columns} FROM scoring_result WITH NO DATA")
            cursor.cursor.copy_expert(f"COPY scoring_result_new ({columns}) FROM STDIN", buffer)
            phases.mark("COPY into a temporary table")
            cursor.execute(
                f"INSERT INTO scoring_result AS r ({columns}) SELECT {columns} FROM scoring_result_new"
                f" ON CONFLICT (institution_id, year) DO UPDATE SET "
                + ", ".join(f"{c} = EXCLUDED.{c}" for c in (*COMPARED, "run_id", "computed_at"))
                + f" WHERE {changed_condition}")
            written = cursor.rowcount
            phases.mark("INSERT … ON CONFLICT DO UPDATE WHERE changed")
            cursor.execute("DELETE FROM scoring_result r WHERE r.year = %s AND NOT EXISTS"
                           " (SELECT 1 FROM scoring_result_new n WHERE n.institution_id = r.institution_id)",
                           [year])
            removed = cursor.rowcount
            phases.mark("delete stale")
            cursor.execute("UPDATE scoring_assessment a SET state = 'scored', updated_at = now()"
                           " FROM scoring_result_new n WHERE n.institution_id = a.institution_id"
                           " AND a.year = %s AND a.state = 'in_review'", [year])
            cursor.execute("DROP TABLE scoring_result_new")
            phases.mark("assessments in_review → scored (join)")
        return len(computed), written, removed


def snapshot() -> dict[int, tuple]:
    from scoring.models import Result

    return {row[0]: row[1:] for row in Result.objects.filter(year=YEAR).values_list("institution_id", *COMPARED)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--only", choices=("current", "proposed"))
    parser.add_argument("--sums", choices=("sql", "orm"), default="sql",
                        help="how the proposal fetches the per-sheet sums (default: one SQL statement)")
    args = parser.parse_args(argv)
    global SUMS_VIA
    SUMS_VIA = args.sums
    setup_django(args.database_url)
    from run import reset_results

    outcomes = {}
    for name, job in (("current", current), ("proposed", proposed)):
        if args.only and name != args.only:
            continue
        reset_results()
        print(f"\n## {name}")
        for call in ("first run", "second run"):
            phases = Phases()
            institutions, written, removed = job(YEAR, phases)
            print(f"\n{call}: {phases.total:.2f} s — {institutions:,} results, {written:,} written, "
                  f"{removed} removed\n")
            print("| phase | s |\n|---|---:|")
            for phase, seconds in phases.times.items():
                print(f"| {phase} | {seconds:.2f} |")
        outcomes[name] = snapshot()
        reset_results()
    if len(outcomes) == 2:
        same = outcomes["current"] == outcomes["proposed"]
        print(f"\nsame results from both: {same} ({len(outcomes['current']):,} rows)")
        if not same:
            raise SystemExit(1)


if __name__ == "__main__":
    sys.exit(main())
