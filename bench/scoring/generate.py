"""Synthetic data for the scoring-aggregation benchmark.

    .venv/bin/python bench/scoring/generate.py --size district|province|nation \
        --database-url postgres://postgres@127.0.0.1:5432/cf_bench

(Re)creates the database (its name must start with ``cf_bench``), migrates it, imports and
activates the 2026 demo scheme (10 items, 27 clauses; 27 basic + 5 bonus + 4 red-line indicators),
then creates N institutions in district 331004 (路桥区) — or, with ``--districts D``, spread evenly
over D synthetic districts (codes 900001…, under a synthetic city 900000, each with its open 2026
district-year), in contiguous blocks of about N / D — one 2026 assessment each (state
``in_review``), three submitted score sheets per assessment and one entry per indicator per sheet:
district 60 institutions (6,480 entries), province 5,000 (540,000), nation 170,000 (18,360,000).

Values are valid and repeatable (fixed seeds): basic points are ``max − d`` with ``d`` a one-decimal
deduction drawn up to 60 % of the indicator's maximum, scaled by a per-institution weakness, so
totals spread over all four colours; bonus points are uniform on 0.0 … max; red-line hits are rare
(``--red-line-share``, default 1 % of institutions have at least one hit).

The big tables are written set-based inside PostgreSQL (``COPY`` for institutions,
``INSERT … SELECT`` for assessments, sheets and entries). For the entries, the secondary indexes,
the unique constraint and the foreign keys are dropped during the load and rebuilt afterwards
(exactly as migrated, from their captured definitions), and the load runs in ``--jobs`` parallel
connections. Then each sheet's sums are stored, as submitting a sheet stores them
(`scoring.sheet_sums`; a step of its own in the timings), and the database is ``VACUUM ANALYZE``d at
the end, as a maintained production database would be.
"""

from __future__ import annotations

import argparse
import io
import random
import secrets
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
from benchlib import REPO, SIZES, YEAR, connect_kwargs, database_name, setup_django, step

DISTRICT_CODE = "331004"  # 路桥区, from the reference districts migration
CATEGORIES = (("bank", 0.40), ("insurance", 0.25), ("securities", 0.10), ("private_lending", 0.15),
              ("other", 0.10))
RED_LINE_INDICATORS_PER_SHEET = 4
SOURCES = ("self", "inspection", "third_party")


def scheme_files() -> tuple[Path, Path]:
    for folder in (REPO / "scoring" / "data", Path("/work/shared/data")):
        norms, indicators = folder / "norms-2026-demo.csv", folder / "indicators-2026-demo.csv"
        if norms.exists() and indicators.exists():
            return norms, indicators
    raise SystemExit("demo scheme CSVs not found in scoring/data/ or /work/shared/data/")


def recreate_database(url: str) -> None:
    name = database_name(url)
    admin = psycopg2.connect(**connect_kwargs(url, dbname="postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def import_demo_scheme() -> int:
    from core.tabular import read_path
    from scoring import services

    norms_path, indicators_path = scheme_files()
    report = services.import_scheme(
        YEAR,
        read_path(norms_path, services.NORMS_COLUMNS),
        read_path(indicators_path, services.INDICATOR_COLUMNS),
        activate=True,
    )
    if not report.ok:
        raise SystemExit("scheme import failed:\n" + "\n".join(map(str, report.problems)))
    from scoring.models import Scheme

    return Scheme.objects.get(year=YEAR, district__isnull=True).pk


def institutions_tsv(count: int, district_ids: list[int], seed: int) -> io.StringIO:
    from institutions.usc import make_usc_code

    rng = random.Random(seed)
    now = datetime.now(UTC).isoformat()
    names, weights = zip(*CATEGORIES, strict=True)
    buffer = io.StringIO()
    for index in range(1, count + 1):
        district_id = district_ids[(index - 1) * len(district_ids) // count]
        category = rng.choices(names, weights)[0]
        usc = make_usc_code(f"91{DISTRICT_CODE}MB{index:07d}")
        local = "t" if category == "bank" and rng.random() < 0.2 else "f"
        buffer.write(
            f"BENCH-{index:06d}\t基准测试金融机构{index:06d}\t基准{index:06d}\t{category}\t{usc}\t{district_id}\t"
            f"{local}\t\t\t\tt\t{secrets.token_urlsafe(16)}\t{now}\t{now}\n")
    buffer.seek(0)
    return buffer


def create_districts(conn, count: int) -> list[int]:
    """`count` synthetic districts (codes 900001…) under a synthetic city (900000); their ids in code order."""
    with conn.cursor() as cursor:
        cursor.execute("INSERT INTO institutions_district (code, name, level, parent_id, publish_blacklist)"
                       " VALUES ('900000', '基准市', 'city', NULL, false) RETURNING id")
        (city_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO institutions_district (code, name, level, parent_id, publish_blacklist)"
            " SELECT '9' || lpad(n::text, 5, '0'), '基准区' || n, 'district', %s, false"
            " FROM generate_series(1, %s) n", [city_id, count])
        cursor.execute("SELECT id FROM institutions_district WHERE parent_id = %s ORDER BY code", [city_id])
        ids = [row[0] for row in cursor.fetchall()]
    conn.commit()
    return ids


def open_district_years(conn, district_ids: list[int], scheme_id: int) -> None:
    """Each district's open 2026 year on the template scheme (what scoring.services.district_year creates)."""
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scoring_districtyear (district_id, year, scheme_id, status, created_at, updated_at)"
            " SELECT d, %s, %s, 'open', now(), now() FROM unnest(%s::bigint[]) d", [YEAR, scheme_id, district_ids])
    conn.commit()


def load_institutions(conn, count: int, seed: int, district_ids: list[int] | None = None) -> None:
    with conn.cursor() as cursor:
        if not district_ids:
            cursor.execute("SELECT id FROM institutions_district WHERE code = %s", [DISTRICT_CODE])
            district_ids = [cursor.fetchone()[0]]
        cursor.copy_expert(
            "COPY institutions_institution (code, name, short_name, category, usc_code, district_id,"
            " is_local_corporate, address, contact_person, contact_phone, is_active, public_code, created_at,"
            " updated_at)"
            " FROM STDIN", institutions_tsv(count, district_ids, seed))
    conn.commit()


def load_assessments_and_sheets(conn, scheme_id: int) -> None:
    with conn.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scoring_assessment (institution_id, year, scheme_id, state, created_at, updated_at)"
            " SELECT id, %s, %s, 'in_review', now(), now() FROM institutions_institution ORDER BY id",
            [YEAR, scheme_id])
        cursor.execute(
            "INSERT INTO scoring_scoresheet (assessment_id, source, status, submitted_at, returned_reason,"
            " updated_at)"
            " SELECT a.id, src.source, 'submitted', now(), '', now()"
            " FROM scoring_assessment a CROSS JOIN unnest(%s::text[]) WITH ORDINALITY AS src(source, n)"
            " WHERE a.year = %s ORDER BY a.id, src.n",
            [list(SOURCES), YEAR])
    conn.commit()


def secondary_constraints(conn, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(name, definition) of the unique and foreign-key constraints, and of the plain indexes."""
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname", [table])
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
            " WHERE x.indrelid = %s::regclass"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
            " ORDER BY i.relname", [table])
        indexes = cursor.fetchall()
    return constraints, indexes


ENTRY_SQL = """
INSERT INTO scoring_sheetentry (sheet_id, indicator_id, points, hit, note, version, updated_at)
SELECT s.id, i.id,
       CASE i.kind
         WHEN 'basic' THEN i.max_points
              - floor(random() * w.weakness * i.max_points::float8 * 10)::numeric / 10
         WHEN 'bonus' THEN floor(random() * (i.max_points::float8 * 10 + 1))::numeric / 10
       END,
       CASE WHEN i.kind = 'red_line' THEN random() < %(hit_rate)s END,
       '', 1, now()
FROM scoring_scoresheet s
CROSS JOIN LATERAL (SELECT 0.6 * ((s.assessment_id * 7919) %% 1000) / 1000.0 AS weakness) w
CROSS JOIN (SELECT id, kind, max_points FROM scoring_indicator WHERE scheme_id = %(scheme)s) i
WHERE s.id BETWEEN %(low)s AND %(high)s
ORDER BY s.id, i.id
"""


def load_entries(url: str, conn, scheme_id: int, jobs: int, red_line_share: float, seed: int,
                 timings: dict) -> None:
    table = "scoring_sheetentry"
    constraints, indexes = secondary_constraints(conn, table)
    with step("entries: drop secondary indexes and constraints", timings), conn.cursor() as cursor:
        for name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT min(id), max(id) FROM scoring_scoresheet")
        low, high = cursor.fetchone()
        conn.commit()

    # P(institution has ≥ 1 hit) = 1 − (1 − p)^(4 red-line indicators × 3 sheets).
    hit_rate = 1 - (1 - red_line_share) ** (1 / (RED_LINE_INDICATORS_PER_SHEET * len(SOURCES)))
    errors: list[BaseException] = []
    span = (high - low + 1 + jobs - 1) // jobs

    def worker(job: int) -> None:
        try:
            worker_conn = psycopg2.connect(**connect_kwargs(url))
            with worker_conn.cursor() as cursor:
                # The ORDER BY (entries stored sheet by sheet, as a portal fills them) sorts in memory.
                cursor.execute("SET work_mem = '1GB'")
                cursor.execute("SELECT setseed(%s)", [((seed + job) % 1000) / 1000])
                cursor.execute(ENTRY_SQL, {"hit_rate": hit_rate, "scheme": scheme_id,
                                           "low": low + job * span, "high": min(high, low + (job + 1) * span - 1)})
            worker_conn.commit()
            worker_conn.close()
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    with step(f"entries: INSERT … SELECT in {jobs} connection(s)", timings):
        threads = [threading.Thread(target=worker, args=(job,)) for job in range(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]

    with step("entries: rebuild indexes and constraints", timings), conn.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        conn.commit()


def store_sheet_sums(single_district: bool) -> int:
    """What submitting each sheet stores with it (`scoring.services.submit_sheet`): its sums, counted
    from its entries. The sheets here are written submitted in bulk, so they are counted afterwards."""
    from django.db import connections

    from institutions.models import District
    from scoring import services, sheet_sums

    if single_district:  # every institution in 331004: its district-year, as filing opens it
        services.district_year(District.objects.get(code="331004"), YEAR)
    stored = sheet_sums.fill(YEAR)
    connections.close_all()
    return stored


def vacuum_analyze(conn) -> None:
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("VACUUM (ANALYZE)")
    conn.autocommit = False


def report(conn) -> None:
    with conn.cursor() as cursor:
        for table in ("institutions_institution", "scoring_assessment", "scoring_scoresheet", "scoring_sheetentry"):
            cursor.execute(f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}")
            count, size = cursor.fetchone()
            print(f"  {table:28} {count:>12,} rows  {size:>10}")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database size {cursor.fetchone()[0]}")
        cursor.execute(
            "SELECT count(DISTINCT a.institution_id) FROM scoring_sheetentry e"
            " JOIN scoring_scoresheet s ON s.id = e.sheet_id JOIN scoring_assessment a ON a.id = s.assessment_id"
            " WHERE e.hit")
        print(f"  institutions with a red-line hit: {cursor.fetchone()[0]:,}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", choices=sorted(SIZES), required=True)
    parser.add_argument("--institutions", type=int, help="override the size's institution count")
    parser.add_argument("--database-url", required=True, help="postgres://…/cf_bench… (recreated)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel connections for the entries (default 2)")
    parser.add_argument("--red-line-share", type=float, default=0.01,
                        help="share of institutions with a red-line hit (default 0.01)")
    parser.add_argument("--districts", type=int, default=0,
                        help="spread the institutions over this many synthetic districts (default: all in 331004)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    count = args.institutions or SIZES[args.size]
    url = args.database_url
    database_name(url)

    timings: dict[str, float] = {}
    started = time.perf_counter()
    spread = f" in {args.districts:,} districts" if args.districts else ""
    print(f"Generating {args.size} ({count:,} institutions{spread}) into {database_name(url)}")
    with step("recreate database", timings):
        recreate_database(url)
    setup_django(url)
    with step("migrate", timings):
        migrate()
    with step("import and activate the 2026 demo scheme", timings):
        scheme_id = import_demo_scheme()

    from django.db import connections

    connections.close_all()
    conn = psycopg2.connect(**connect_kwargs(url))
    district_ids = None
    if args.districts:
        with step(f"{args.districts:,} districts and their 2026 district-years", timings):
            district_ids = create_districts(conn, args.districts)
            open_district_years(conn, district_ids, scheme_id)
    with step("institutions (COPY)", timings):
        load_institutions(conn, count, args.seed, district_ids)
    with step("assessments and sheets (INSERT … SELECT)", timings):
        load_assessments_and_sheets(conn, scheme_id)
    load_entries(url, conn, scheme_id, max(1, args.jobs), args.red_line_share, args.seed, timings)
    with step("sheet sums, as submitting stores them (scoring.sheet_sums.fill)", timings):
        stored = store_sheet_sums(not args.districts)
    print(f"  {stored:,} sheets' sums stored")
    with step("VACUUM (ANALYZE)", timings):
        vacuum_analyze(conn)
    report(conn)
    conn.close()
    print(f"Done in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    sys.exit(main())
