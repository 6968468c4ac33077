"""Benchmark of 风险预警 (issue 15, item 7): loading one file of transactions, and screening.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cf_h15_bench \\
      .venv/bin/python bench/risk/run.py --load-rows 1000000 --institutions 60 \\
          --transactions 1000000 --events 200000 --repeat 2

The database must be migrated and its name must contain "bench" (it is written to).

1. Loading. A CSV of --load-rows transactions of one institution (50 employees) is written once.
   Timed: (a) the floor, a bare ``COPY`` of that file into a table with the same typed columns and
   no index (PostgreSQL parses the times, amounts and text; no checks); (a') the same ``COPY`` into
   a table with the indexes ``risk_transaction`` keeps (a bare COPY into the real table);
   (b) ``risk.services.load_extract`` end to end on the same bytes: ``COPY`` into a temporary table,
   one ``INSERT … SELECT`` checking every row (employee in the registry, choices, positive amounts
   with at most 2 decimals, times) into the real table; (c) the same file again (every row
   replaced). Before each repetition the institution's rows are deleted (a first load).
2. Rules. --institutions institutions with 50 employees each, --transactions transactions and
   --events events spread evenly, generated set-based in SQL (repeatable hashes, no Python loop),
   plus 500 customer relationships per institution. For each rule: floor A, one hand-written SQL
   statement computing the same alert keys for all institutions at once (keys only, no evidence);
   floor B, the same statement once per institution, summed; each floor at the database's default
   settings and at the library's (no JIT, bitmap reads), the better one counting; then the
   library's statement (``risk.services.rule_rows``, with the evidence) once per institution,
   summed. Then the totals: ``run_screening`` of every institution (all six rules, alerts
   written), and again (every key existing: the idempotent path).

Medians of --repeat repetitions. Prints the figures; docs/performance.md has the measured ones.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from institutions.models import District, Employee, Institution  # noqa: E402
from institutions.usc import make_usc_code  # noqa: E402
from risk import rules, services  # noqa: E402
from risk.models import Alert, Event, Relationship, Screening, Transaction  # noqa: E402

EMPLOYEES = 50
DATE_FROM, DATE_TO = dt.date(2026, 1, 1), dt.date(2026, 12, 31)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def institutions(n: int, prefix: str) -> list[Institution]:
    district = District.objects.get(code="331004")
    out = []
    for i in range(n):
        code = f"{prefix}{i:04d}"
        inst, created = Institution.objects.get_or_create(code=code, defaults={
            "name": f"基准银行{code}", "category": "bank", "district": district,
            "usc_code": make_usc_code(f"91331004BR{abs(hash(code)) % 10**7:07d}"[:17])})
        if created:
            Employee.objects.bulk_create([Employee(institution=inst, name=f"员工{e}", employee_no=f"E{e:03d}")
                                          for e in range(EMPLOYEES)])
        out.append(inst)
    return out


# --- 1. loading ------------------------------------------------------------------------------------

def write_file(path: Path, rows: int) -> None:
    channels = ("transfer", "cash", "card")
    types = ("customer", "employee", "company", "individual", "merchant")
    start = dt.datetime(2026, 1, 1)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rules.COLUMNS["transactions"])
        for i in range(rows):
            h = (i * 2654435761) % 4294967296
            when = start + dt.timedelta(seconds=h % (365 * 86400))
            w.writerow([f"L{i:08d}", f"E{h % EMPLOYEES:03d}", when.strftime("%Y-%m-%d %H:%M:%S"),
                        "in" if h & 1 else "out", f"{(h % 2000000) / 100 + 0.01:.2f}", channels[h % 3],
                        f"CP{h % 5000}", "对手方", types[(h >> 3) % 5], "7995" if h % 997 == 0 else ""])


FLOOR_COLUMNS = ("txn_id varchar(64), employee_no varchar(32), occurred_at timestamptz, direction varchar(3), "
                 "amount numeric(16,2), channel varchar(10), counterparty_id varchar(64), "
                 "counterparty_name varchar(200), counterparty_type varchar(12), merchant_category varchar(4)")


def bare_copy(path: Path, indexed: bool) -> float:
    """A bare COPY of the file into a fresh table with the same typed columns (PostgreSQL parses the
    times with the Shanghai zone, the amounts and the text; no checks). `indexed`: the table also has
    the indexes risk_transaction keeps (an identity primary key, the unique (institution, txn_id),
    BRIN indexes of institution and day and of the load time): a bare COPY into the real table, the
    least any load into it maintains."""
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS bench_bare_copy")
        extra = (", institution_id bigint NOT NULL DEFAULT 1, loaded_at timestamptz NOT NULL DEFAULT now(), "
                 "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, UNIQUE (institution_id, txn_id)"
                 if indexed else "")
        c.execute(f"CREATE TABLE bench_bare_copy ({FLOOR_COLUMNS}{extra})")
        if indexed:
            c.execute("CREATE INDEX bench_bare_copy_day ON bench_bare_copy USING brin (institution_id, occurred_at) "
                      "WITH (pages_per_range = 32)")
            c.execute("CREATE INDEX bench_bare_copy_loaded ON bench_bare_copy USING brin (loaded_at)")
        c.execute("SET TIME ZONE 'Asia/Shanghai'")
        with path.open() as f:
            t, _ = timed(lambda: c.cursor.copy_expert(
                "COPY bench_bare_copy (txn_id, employee_no, occurred_at, direction, amount, channel, "
                "counterparty_id, counterparty_name, counterparty_type, merchant_category) "
                "FROM STDIN WITH (FORMAT csv, HEADER true)", f))
        c.execute("SET TIME ZONE 'UTC'")
        c.execute("DROP TABLE bench_bare_copy")
    return t


def bench_load(rows: int, repeat: int, row_path: bool = False) -> None:
    from django.contrib.auth import get_user_model

    from institutions.models import Membership

    inst = institutions(1, "BL")[0]
    filer, _ = get_user_model().objects.get_or_create(username="bench_risk_filer")
    Membership.objects.get_or_create(user=filer, institution=inst, role="institution_filer")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "transactions.csv"
        t, _ = timed(lambda: write_file(path, rows))
        size = path.stat().st_size
        print(f"load: {rows:,} rows, {size / 1e6:.1f} MB file (written in {t:.1f} s)")
        data = path.read_bytes()
        floors, indexed_floors, loads, agains = [], [], [], []
        for rep in range(repeat):
            t_floor = bare_copy(path, indexed=False)
            t_indexed = bare_copy(path, indexed=True)
            Transaction.objects.filter(institution=inst).delete()
            with connection.cursor() as c:
                c.execute("VACUUM risk_transaction")
            t_load, upload = timed(lambda: services.load_extract(filer, inst, "transactions", data,
                                                                 "transactions.csv"))
            assert upload.rows == rows and Transaction.objects.filter(institution=inst).count() == rows
            t_again, _ = timed(lambda: services.load_extract(filer, inst, "transactions", data, "transactions.csv"))
            assert Transaction.objects.filter(institution=inst).count() == rows
            line = (f"  #{rep + 1} (load average {os.getloadavg()[0]:.2f}): bare COPY {t_floor:.2f} s; bare COPY into "
                    f"an indexed table {t_indexed:.2f} s; load_extract {t_load:.2f} s ({t_load / t_floor:.2f}× the "
                    f"floor, {t_load / t_indexed:.2f}× the indexed one); the same file again (every row replaced) "
                    f"{t_again:.2f} s ({t_again / t_floor:.2f}×)")
            if row_path:
                Transaction.objects.filter(institution=inst).delete()
                t_slow, _ = timed(lambda: services.store_rows(
                    inst, "transactions", services.parse_extract(inst, "transactions", data, "transactions.csv")))
                line += f"; the row-by-row path (small files, bad files) {t_slow:.2f} s"
            floors.append(t_floor)
            indexed_floors.append(t_indexed)
            loads.append(t_load)
            agains.append(t_again)
            print(line, flush=True)
        f, fi, lo, ag = (statistics.median(x) for x in (floors, indexed_floors, loads, agains))
        print(f"load median: bare COPY {f:.2f} s, into an indexed table {fi:.2f} s, load_extract {lo:.2f} s "
              f"({lo / f:.2f}× the floor, {lo / fi:.2f}× the indexed one), again {ag:.2f} s ({ag / f:.2f}×)")
        Transaction.objects.filter(institution=inst).delete()


# --- 2. rules ----------------------------------------------------------------------------------------

def generate(insts: list[Institution], transactions: int, events: int) -> None:
    ids = [i.pk for i in insts]
    Transaction.objects.filter(institution_id__in=ids).delete()
    Event.objects.filter(institution_id__in=ids).delete()
    Relationship.objects.filter(institution_id__in=ids).delete()
    Alert.objects.filter(institution_id__in=ids).delete()
    Screening.objects.filter(institution_id__in=ids).delete()
    n = len(ids)
    with connection.cursor() as c:
        # hashes of the row number: repeatable, no Python loop
        c.execute("""
            INSERT INTO risk_relationship (institution_id, employee_no, counterparty_id, relation, since, until,
                                           loaded_at)
            SELECT (%(ids)s::bigint[])[1 + g %% %(n)s], 'E' || lpad(((g / %(n)s) %% 50)::text, 3, '0'),
                   'CP' || (abs(hashint4(g)::bigint) %% 2000), 'loan_officer',
                   DATE '2025-06-01' + (abs(hashint4(g * 7)::bigint) %% 300)::int, NULL, now()
            FROM generate_series(0, %(n)s * 500 - 1) g""", {"ids": ids, "n": n})
        c.execute("""
            INSERT INTO risk_transaction (institution_id, txn_id, employee_no, occurred_at, occurred_on, direction,
                amount, channel, counterparty_id, counterparty_name, counterparty_type, merchant_category, loaded_at)
            SELECT (%(ids)s::bigint[])[1 + (g::bigint * %(n)s) / %(t)s], 'B' || g,
                   'E' || lpad((abs(h) %% 50)::text, 3, '0'), ts, (ts AT TIME ZONE 'Asia/Shanghai')::date,
                   CASE WHEN h & 1 = 0 THEN 'in' ELSE 'out' END,
                   round(((abs(h) %% 3000000) / 100.0 + 0.01)::numeric, 2),
                   (ARRAY['transfer','cash','card'])[1 + abs(h / 7) %% 3],
                   'CP' || (abs(h / 13) %% 2000), '', (ARRAY['customer','employee','company','individual',
                   'merchant'])[1 + abs(h / 17) %% 5], CASE WHEN abs(h) %% 4999 = 0 THEN '7995' ELSE '' END, now()
            FROM generate_series(0, %(t)s - 1) g,
                 LATERAL (SELECT hashint4(g)::bigint AS h) x,
                 LATERAL (SELECT TIMESTAMPTZ '2025-12-31 16:00:00+00' + (abs(hashint4(g * 3)::bigint) %% (365 * 86400))
                                 * INTERVAL '1 second' AS ts) y""", {"ids": ids, "n": n, "t": transactions})
        c.execute("""
            INSERT INTO risk_event (institution_id, employee_no, occurred_at, occurred_on, action, target_id, loaded_at)
            SELECT (%(ids)s::bigint[])[1 + (g::bigint * %(n)s) / %(e)s], 'E' || lpad((abs(h) %% 50)::text, 3, '0'),
                   ts, (ts AT TIME ZONE 'Asia/Shanghai')::date,
                   (ARRAY['login','query_customer','query_customer','query_customer','modify_limit','override'])
                       [1 + abs(h / 7) %% 6], 'CP' || (abs(h / 13) %% 2000), now()
            FROM generate_series(0, %(e)s - 1) g,
                 LATERAL (SELECT hashint4(g + 1000000000)::bigint AS h) x,
                 LATERAL (SELECT TIMESTAMPTZ '2025-12-31 16:00:00+00' + (abs(hashint4(g * 5)::bigint) %% (365 * 86400))
                                 * INTERVAL '1 second' AS ts) y""", {"ids": ids, "n": n, "e": events})
    services.summarize_new_pages()  # what a load does after it commits
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE risk_transaction")  # the DELETE's dead rows, as autovacuum would
        c.execute("VACUUM ANALYZE risk_event")
        c.execute("VACUUM ANALYZE risk_relationship")


CUSTOMER = """EXISTS (SELECT 1 FROM risk_relationship r WHERE r.institution_id = {t}.institution_id
  AND r.employee_no = {t}.employee_no AND r.counterparty_id = {t}.{cp} AND r.since <= {t}.occurred_on
  AND (r.until IS NULL OR {t}.occurred_on <= r.until))"""
RANGE = "{t}.institution_id = ANY(%(ids)s) AND {t}.occurred_on BETWEEN %(f)s AND %(to)s"

# The floor: each rule by hand, one statement over every institution, keys only.
FLOORS = {
    "R01": f"""SELECT institution_id, employee_no, counterparty_id, to_char(occurred_on, 'YYYY-MM'), count(*)
        FROM risk_transaction t WHERE {RANGE.format(t='t')} AND amount >= 5000
        AND {CUSTOMER.format(t='t', cp='counterparty_id')} GROUP BY 1, 2, 3, 4""",
    "R02": f"""SELECT DISTINCT institution_id, employee_no, counterparty_id FROM (
        SELECT institution_id, employee_no, counterparty_id,
               count(*) OVER w AS n, sum(amount) OVER w AS s FROM risk_transaction t
        WHERE {RANGE.format(t='t')} AND channel = 'transfer' AND counterparty_type IN ('individual', 'company')
          AND NOT {CUSTOMER.format(t='t', cp='counterparty_id')}
        WINDOW w AS (PARTITION BY institution_id, employee_no, counterparty_id ORDER BY occurred_on
                     RANGE BETWEEN CURRENT ROW AND INTERVAL '29 days' FOLLOWING)) x WHERE n >= 3 AND s >= 50000""",
    "R03": f"""SELECT DISTINCT institution_id, employee_no FROM (
        SELECT institution_id, employee_no, sum(amount) OVER w AS s FROM risk_transaction t
        WHERE {RANGE.format(t='t')} AND direction = 'out' AND channel = 'cash'
        WINDOW w AS (PARTITION BY institution_id, employee_no ORDER BY occurred_on
                     RANGE BETWEEN CURRENT ROW AND INTERVAL '6 days' FOLLOWING)) x WHERE s >= 50000""",
    "R04": f"""SELECT institution_id, employee_no, count(*) FROM risk_transaction t
        WHERE {RANGE.format(t='t')} AND merchant_category IN ('7995', '7800', '7801', '7802') GROUP BY 1, 2""",
    "R05": f"""SELECT institution_id, employee_no, to_char(occurred_on, 'YYYY-MM') FROM risk_event e
        WHERE {RANGE.format(t='e')} AND action IN ('modify_limit', 'override')
          AND ((occurred_at AT TIME ZONE 'Asia/Shanghai')::time < '07:30' OR
               (occurred_at AT TIME ZONE 'Asia/Shanghai')::time >= '19:00' OR occurred_on = ANY(%(hol)s)
               OR (extract(isodow FROM occurred_on) IN (6, 7) AND NOT occurred_on = ANY(%(wd)s)))
        GROUP BY 1, 2, 3 HAVING count(DISTINCT occurred_on) >= 3""",
    "R06": f"""SELECT institution_id, employee_no, occurred_on FROM risk_event e
        WHERE {RANGE.format(t='e')} AND action = 'query_customer' AND target_id <> ''
          AND NOT {CUSTOMER.format(t='e', cp='target_id')}
        GROUP BY 1, 2, 3 HAVING count(*) >= 20""",
}


def _floor(sql: str, args: dict, ids: list[int], tuned: bool) -> tuple[float, float, int]:
    """Floor A (one statement, every institution) and floor B (the statement per institution, summed),
    at the database's default settings or with the settings the library runs its statements with
    (``services._RULE_SETTINGS``: no JIT, bitmap reads, work_mem), for the floor's best plan."""
    session = services._SET_RULE_SETTINGS.replace(", true)", ", false)")  # for the session, not a transaction
    with connection.cursor() as c:
        c.execute(f"SELECT {', '.join(f'current_setting({name!r})' for name in services._RULE_SETTINGS)}")
        saved = list(c.fetchone())
        try:
            if tuned:
                c.execute(session, list(services._RULE_SETTINGS.values()))
            t_a, _ = timed(lambda: (c.execute(sql, args), c.fetchall()))
            keys = c.rowcount
            t_b, _ = timed(lambda: [(c.execute(sql, {**args, "ids": [i]}), c.fetchall()) for i in ids])
        finally:
            c.execute(session, saved)
    return t_a, t_b, keys


def bench_rules(insts: list[Institution], repeat: int, screenings: int = 2) -> None:
    ids = [i.pk for i in insts]
    holidays, workdays = services._calendar(DATE_FROM, DATE_TO)
    args = {"ids": ids, "f": DATE_FROM, "to": DATE_TO, "hol": sorted(holidays), "wd": sorted(workdays)}
    print(f"rules: {len(ids)} institutions, {Transaction.objects.filter(institution_id__in=ids).count():,} "
          f"transactions, {Event.objects.filter(institution_id__in=ids).count():,} events; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    totals = [0.0, 0.0]
    for code, rule in rules.RULES.items():
        params = rule.defaults()
        runs = {"A default": [], "A tuned": [], "B default": [], "B tuned": [], "library": []}
        for _rep in range(repeat):
            for tuned in (False, True):
                t_a, t_b, n_floor = _floor(FLOORS[code], args, ids, tuned)
                runs[f"A {'tuned' if tuned else 'default'}"].append(t_a)
                runs[f"B {'tuned' if tuned else 'default'}"].append(t_b)
            t_lib, found = timed(lambda code=code, params=params: [
                services.rule_rows(code, params, i, DATE_FROM, DATE_TO, holidays, workdays) for i in ids])
            runs["library"].append(t_lib)
        n_lib = sum(len(r) for r in found)
        m = {k: statistics.median(v) for k, v in runs.items()}
        a, b = min(m["A default"], m["A tuned"]), min(m["B default"], m["B tuned"])
        totals[0] += a
        totals[1] += m["library"]
        print(f"  {code}: floor A (one statement, all institutions) {a:.2f} s [default settings "
              f"{m['A default']:.2f}, tuned {m['A tuned']:.2f}] ({n_floor} keys); floor B (per institution, summed) "
              f"{b:.2f} s [{m['B default']:.2f}, {m['B tuned']:.2f}]; library per institution (summed, with evidence) "
              f"{m['library']:.2f} s ({n_lib} alerts): {m['library'] / a:.2f}× floor A, {m['library'] / b:.2f}× floor B"
              f"{'' if n_lib == n_floor else ' (KEYS DIFFER)'}", flush=True)
    print(f"  totals: floors A {totals[0]:.2f} s, library {totals[1]:.2f} s", flush=True)
    for label in ("first", "second")[:screenings]:
        t, screenings = timed(lambda: [services.screen_in_process(i, DATE_FROM, DATE_TO) for i in insts])
        created = sum(s.alerts_created for s in screenings)
        total = sum(s.alerts_total for s in screenings)
        assert all(s.status == "done" for s in screenings), [s.error for s in screenings if s.error]
        print(f"  screening of every institution, all six rules ({label} run): {t:.2f} s, "
              f"{created} alerts created, {total} found", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load-rows", type=int, default=1_000_000)
    parser.add_argument("--institutions", type=int, default=60)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--row-path", action="store_true", help="also time the row-by-row path (slow)")
    parser.add_argument("--skip-rules", action="store_true")
    parser.add_argument("--screenings", type=int, default=2, choices=(0, 1, 2),
                        help="run_screening of every institution: 0, the first run, or also the idempotent rerun")
    options = parser.parse_args()
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("refusing: the database name must contain 'bench'")
    print(f"database {connection.settings_dict['NAME']}, load average {os.getloadavg()[0]:.2f}")
    if not options.skip_load:
        bench_load(options.load_rows, options.repeat, options.row_path)
    if not options.skip_rules:
        insts = institutions(options.institutions, "BR")
        t, _ = timed(lambda: generate(insts, options.transactions, options.events))
        print(f"generated in {t:.1f} s")
        bench_rules(insts, options.repeat, options.screenings)


if __name__ == "__main__":
    main()
