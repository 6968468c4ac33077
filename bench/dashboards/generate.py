"""Synthetic data for the dashboards benchmark: a province of 5,000 institutions with a year of data.

    .venv/bin/python bench/dashboards/generate.py --database-url postgres://postgres@127.0.0.1:5432/cf_bench_dashboards

(Re)creates the database (its name must start with ``cf_bench``) with bench/scoring/generate.py
(--size province: 5,000 institutions in 路桥区 331004, the 2026 demo scheme, three submitted sheets
each, 540,000 entries), aggregates 2026 through ``scoring.services.aggregate_year``, copies the
results to 2025 with shifted totals (the year-on-year base), and then adds, set-based in SQL:

- 20 employees per institution (100,000);
- 2025 and 2026 complaints: 20 per institution per year (200,000), every kind, a third concluded;
- questionnaire answers: 5 per institution per month, both years (600,000);
- staff violation records: about 0.4 per employee per year (~80,000);
- 10 district-wide warnings per year, each delivered to every employee (2,000,000 deliveries), with
  read and acknowledgement times;
- 2026 inspection visits: two per institution (10,000), without findings;
- 2026 programme activities: four per institution (20,000), of the district's catalogue of kinds.

Then the tallies the services keep (questionnaire answers per institution and month, deliveries per
warning and institution) are rebuilt. The per-item summary of 2026 (Result.item_cents) is written by
the aggregation itself, with the results; 2025's is copied with them. Values are repeatable (PostgreSQL's hash
of ids, no random state).
``VACUUM ANALYZE`` at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scoring"))

from benchlib import REPO, database_name, setup_django, step

YEAR = 2026
EMPLOYEES = 20
COMPLAINTS = 20
ANSWERS_PER_MONTH = 5
WARNINGS = 10
VISITS = 2
ACTIVITIES = 4
MONTH = "(1 + (i.id + n) %% 12)::int"
DAY = "(1 + (n * 7 + i.id) %% 28)::int"


def sql(statement: str, params: list | None = None) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def previous_year_results() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM scoring_result WHERE year = %s", [YEAR - 1])
        # Every column of the table, so that columns added later are copied too (the per-item summary,
        # item_cents, among them); these few differ.
        from scoring.models import Result

        shifted = "GREATEST(total - 3 + (institution_id %% 7), 0)"
        special = {
            "year": "%s",
            "total": shifted,
            "colour": f"""CASE WHEN red_line THEN 'red'
                        WHEN {shifted} >= 90 THEN 'green'
                        WHEN {shifted} >= 80 THEN 'blue'
                        WHEN {shifted} >= 70 THEN 'yellow' ELSE 'red' END""",
            "status": "'published'",
            "complaints_substantiated": "0",
            "complaints_partial": "0",
            "run_id": "NULL",
        }
        columns = [f.column for f in Result._meta.concrete_fields if not f.primary_key]
        cursor.execute(f"""
            INSERT INTO scoring_result ({", ".join(columns)})
            SELECT {", ".join(special.get(c, c) for c in columns)}
            FROM scoring_result WHERE year = %s""", [YEAR - 1, YEAR])
        return cursor.rowcount


def employees() -> int:
    return sql(f"""
        INSERT INTO institutions_employee (institution_id, name, employee_no, department, position,
            is_party_member, is_active, created_at, updated_at)
        SELECT i.id, '员工' || n, 'E' || lpad(n::text, 3, '0'), '营业部', '柜员', n %% 3 = 0, true, now(), now()
        FROM institutions_institution i CROSS JOIN generate_series(1, {EMPLOYEES}) n""")


def complaints() -> int:
    kinds = "(ARRAY['rating','suggestion','complaint','report'])[1 + (n %% 4)]"
    return sql(f"""
        INSERT INTO complaints_complaint (institution_id, kind, status, outcome, channel, description, staff_name,
            rating_attitude, rating_efficiency, rating_integrity, anonymous, contact_name_enc, contact_phone_enc,
            receipt_hash, received_at, deadline_from, extensions, deadlines, next_due_key, deadlines_provisional,
            involves_party_member, reject_reason, converted_from_rating, version, concluded_at, basis, reply_state)
        SELECT i.id, {kinds},
               CASE WHEN n %% 3 = 0 AND {kinds} <> 'rating' THEN 'concluded' ELSE 'received' END,
               CASE WHEN n %% 3 = 0 AND {kinds} <> 'rating'
                    THEN (ARRAY['substantiated','partially_substantiated','unsubstantiated'])[1 + (i.id + n) %% 3]
                    ELSE '' END,
               'form', '基准测试反映内容', '',
               CASE WHEN {kinds} = 'rating' THEN 2 + (i.id + n) %% 4 END,
               CASE WHEN {kinds} = 'rating' THEN 3 + (i.id + n) %% 3 END,
               CASE WHEN {kinds} = 'rating' THEN 4 END,
               true, '', '', md5(y::text || '-' || i.id::text || '-' || n::text),
               make_timestamptz(y, {MONTH}, {DAY}, 10, 0, 0, 'Asia/Shanghai'),
               make_date(y, {MONTH}, {DAY}), 0, '{{}}'::jsonb, '', false, false, '', false, 1,
               CASE WHEN n %% 3 = 0 AND {kinds} <> 'rating'
                    THEN make_timestamptz(y, {MONTH}, {DAY}, 10, 0, 0, 'Asia/Shanghai')
                         + ((5 + (i.id + n) %% 40) || ' days')::interval END,
               'financial', ''
        FROM institutions_institution i CROSS JOIN generate_series(1, {COMPLAINTS}) n
        CROSS JOIN (VALUES ({YEAR - 1}), ({YEAR})) years(y)""")


def answers() -> int:
    from complaints.services import ensure_questionnaire

    total = 0
    for year in (YEAR - 1, YEAR):
        questionnaire = ensure_questionnaire(year)
        total += sql(f"""
            INSERT INTO complaints_surveyresponse (questionnaire_id, institution_id, answers, mean_rating, satisfied,
                submitted_at)
            SELECT %s, i.id, '{{}}'::jsonb, CASE WHEN s THEN 4.5 ELSE 3.0 END, s,
                   make_timestamptz(%s, m, 1 + n * 5, 11, 0, 0, 'Asia/Shanghai')
            FROM institutions_institution i CROSS JOIN generate_series(1, 12) m
            CROSS JOIN generate_series(1, {ANSWERS_PER_MONTH}) n
            CROSS JOIN LATERAL (SELECT (i.id + m + n + %s) %% 10 < 8 AS s) x""",
                     [questionnaire.pk, year, year])
    return total


def violations() -> int:
    from staff_points.models import ViolationType

    vtype, _ = ViolationType.objects.get_or_create(institution=None, code="BENCH", defaults={
        "name": "基准测试违规", "module": "compliance", "points": 2})
    return sql("""
        INSERT INTO scoring_pointrecord (employee_id, date, kind, violation_type_id, module, points, is_red_line,
            source, note, evidence, created_at)
        SELECT e.id, make_date(y, (1 + e.id %% 12)::int, (1 + e.id %% 28)::int), 'deduction', %s,
               'compliance', 2, false,
               'manual', '', '', now()
        FROM institutions_employee e CROSS JOIN (VALUES (%s), (%s)) years(y)
        WHERE (e.id + y) %% 5 < 2""", [vtype.pk, YEAR - 1, YEAR])


def warnings() -> int:
    from institutions.models import District

    district = District.objects.get(code="331004")
    total = 0
    for year in (YEAR - 1, YEAR):
        for n in range(1, WARNINGS + 1):
            warning_id = None
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("""
                    INSERT INTO warnings_feed_warning (title, body, case_type, severity, scope, district_id, category,
                        names, is_public, issuer, publish_at, fanned_out_at, recipients, created_at, updated_at)
                    VALUES (%s, '基准测试正文', 'other', 'medium', 'district', %s, '', '[]'::jsonb, false, '',
                            make_timestamptz(%s, %s, 10, 9, 0, 0, 'Asia/Shanghai'),
                            make_timestamptz(%s, %s, 10, 9, 0, 0, 'Asia/Shanghai'), 0, now(), now())
                    RETURNING id""", [f"基准测试警示 {year}-{n}", district.pk, year, n, year, n])
                warning_id = cursor.fetchone()[0]
            total += sql("""
                INSERT INTO warnings_feed_delivery (warning_id, employee_id, institution_id, delivered_at, read_at,
                    acknowledged_at, reminders)
                SELECT %s, e.id, e.institution_id, w.publish_at,
                       CASE WHEN (e.id + %s) %% 10 < 8 THEN w.publish_at + interval '2 hours' END,
                       CASE WHEN (e.id + %s) %% 10 < 6 THEN w.publish_at + ((e.id %% 5) || ' days')::interval END,
                       0
                FROM institutions_employee e, warnings_feed_warning w WHERE w.id = %s""",
                         [warning_id, n, n, warning_id])
    return total


def visits() -> int:
    """A year of inspection visits: two per institution in 2026, planned and unannounced (no findings)."""
    return sql(f"""
        INSERT INTO inspections_visit (institution_id, district_id, visited_on, kind, joint_with_discipline, team,
            people_met, notes, notice_number, notice_pdf, created_at)
        SELECT i.id, i.district_id, make_date({YEAR}, {MONTH}, {DAY}),
               CASE WHEN n = 1 THEN 'planned' ELSE 'unannounced' END, (i.id + n) %% 5 = 0,
               '["检查组甲", "检查组乙"]'::jsonb, '分管负责人', '基准测试检查情况', '', '', now()
        FROM institutions_institution i CROSS JOIN generate_series(1, {VISITS}) n""")


def activities() -> int:
    """A year of programme activities: four per institution in 2026, of the district's catalogue."""
    from activities.services import ensure_catalogue
    from institutions.models import District

    district = District.objects.get(code="331004")
    ensure_catalogue(district)
    return sql(f"""
        INSERT INTO activities_activity (institution_id, kind_id, title, held_on, year, place, organiser,
            participant_count, description, created_at, updated_at)
        SELECT i.id, k.ids[1 + (i.id + n) %% array_length(k.ids, 1)], '基准测试活动 ' || n,
               make_date({YEAR}, {MONTH}, {DAY}), {YEAR}, '会议室', '办公室', 10 + (i.id + n) %% 30,
               '基准测试活动内容', now(), now()
        FROM institutions_institution i CROSS JOIN generate_series(1, {ACTIVITIES}) n
        CROSS JOIN (SELECT array_agg(id ORDER BY id) AS ids FROM activities_activitykind
                    WHERE district_id = %s) k
        WHERE i.district_id = %s""", [district.pk, district.pk])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgres://…/cf_bench… (recreated)")
    parser.add_argument("--institutions", type=int, default=5_000)
    parser.add_argument("--keep-scoring", action="store_true",
                        help="reuse the database's scoring data and results; only rebuild the activity data")
    args = parser.parse_args(argv)
    database_name(args.database_url)
    timings: dict[str, float] = {}
    if not args.keep_scoring:
        with step("scoring data (bench/scoring/generate.py)", timings):
            subprocess.run([sys.executable, str(REPO / "bench" / "scoring" / "generate.py"), "--size", "province",
                            "--institutions", str(args.institutions), "--database-url", args.database_url],
                           check=True, stdout=subprocess.DEVNULL)
    setup_django(args.database_url)
    from institutions.models import District
    from scoring.services import aggregate_year

    if not args.keep_scoring:
        with step("aggregate 2026 (results and item summary)", timings):
            aggregate_year(YEAR, District.objects.get(code="331004"))
        # Published, so that the city's figures (published results only) have something to show.
        from scoring.models import DistrictYear, Result

        DistrictYear.objects.filter(district__code="331004", year=YEAR).update(status="published")
        Result.objects.filter(year=YEAR, district__code="331004").update(status="published")
    with step("clear activity data", timings):
        sql("TRUNCATE warnings_feed_delivery, warnings_feed_warning, scoring_pointrecord, complaints_surveyresponse, "
            "complaints_complaint, institutions_employee, inspections_visit, activities_activity CASCADE")
    with step("2025 results", timings):
        print(f" {previous_year_results():,}", end="")
    with step("employees", timings):
        print(f" {employees():,}", end="")
    with step("complaints", timings):
        print(f" {complaints():,}", end="")
    with step("questionnaire answers", timings):
        print(f" {answers():,}", end="")
    with step("violation records", timings):
        print(f" {violations():,}", end="")
    with step("warnings and deliveries", timings):
        print(f" {warnings():,}", end="")
    with step("inspection visits", timings):
        print(f" {visits():,}", end="")
    with step("activities", timings):
        print(f" {activities():,}", end="")
    # What the services keep up to date as cases, answers and acknowledgements arrive, rebuilt after
    # the bulk SQL above.
    with step("questionnaire tallies", timings):
        from complaints.services import rebuild_satisfaction_tallies

        print(f" {rebuild_satisfaction_tallies():,}", end="")
    with step("complaint tallies", timings):
        from complaints.tallies import rebuild_complaint_tallies

        print(f" {rebuild_complaint_tallies():,}", end="")
    with step("acknowledgement tallies", timings):
        from warnings_feed.services import rebuild_tallies

        print(f" {rebuild_tallies():,}", end="")
    with step("vacuum analyze", timings):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"done in {time.strftime('%M:%S', time.gmtime(sum(timings.values())))}")


if __name__ == "__main__":
    main()
