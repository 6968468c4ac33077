"""The DuckDB comparison of issue 15, item 7: the same loading and the same rules in DuckDB.

    pip install -r bench/requirements.txt        # duckdb, pinned; not needed by the portal
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cf_bench_h15_scale \\
      .venv/bin/python bench/risk/duckdb_run.py --repeat 3

Run it after ``bench/risk/run.py`` has generated the rule data in the same database (institutions
BR0000…); the database's name must contain "bench". DuckDB runs in process with 2 threads, on a
database file in a temporary folder.

1. Loading (``--load-rows``, default 1,000,000): the same CSV as ``run.py`` (``run.write_file``).
   Timed: a bare ``COPY`` into a DuckDB table of typed columns (DuckDB's floor), and a load doing
   what ``risk.services`` does (read as text, the same row checks, cast, ``INSERT OR REPLACE`` into a
   table whose primary key is (institution, txn_id), the copied count compared with the inserted one).
2. Rules: the institutions' rows exported from PostgreSQL as CSV (``COPY … TO STDOUT``; timed) and
   loaded into DuckDB (timed): what using DuckDB for screening would add before every screening. Then
   each rule of ``run.FLOORS`` in DuckDB's dialect, keys only: once over every institution (floor A)
   and once per institution, summed (floor B: a screening runs per institution), and R01–R06 with
   their evidence as the library returns it (one list of rows per key), per institution, summed.
   ``--check-keys`` also runs PostgreSQL's floor A once per rule and compares the number of keys.

Medians of --repeat repetitions. docs/performance.md has the measured figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb
import run
from django.db import connection

from risk import services
from risk.models import Transaction

DATE_FROM, DATE_TO = run.DATE_FROM, run.DATE_TO
WINDOW_STEP = "RANGE BETWEEN CURRENT ROW AND {n} FOLLOWING"


def median_of(repeat: int, fn) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t, result = run.timed(fn)
        times.append(t)
    return statistics.median(times), result


# --- 1. loading ------------------------------------------------------------------------------------

TYPED = ("txn_id VARCHAR, employee_no VARCHAR, occurred_at TIMESTAMP, direction VARCHAR, amount DECIMAL(16,2), "
         "channel VARCHAR, counterparty_id VARCHAR, counterparty_name VARCHAR, counterparty_type VARCHAR, "
         "merchant_category VARCHAR")

# risk.services._FAST_SELECT's checks in DuckDB's dialect
CHECKED = """
SELECT 1 AS institution_id, trim(txn_id) AS txn_id, employee_no, occurred_at::TIMESTAMP AS occurred_at,
       occurred_at::TIMESTAMP::DATE AS occurred_on, direction, amount::DECIMAL(16,2) AS amount, channel,
       trim(counterparty_id) AS counterparty_id, coalesce(trim(counterparty_name), '') AS counterparty_name,
       counterparty_type, coalesce(merchant_category, '') AS merchant_category
FROM raw
WHERE employee_no IN (SELECT employee_no FROM registry)
  AND direction IN ('in', 'out') AND channel IN ('transfer', 'cash', 'card')
  AND counterparty_type IN ('customer', 'employee', 'company', 'individual', 'merchant')
  AND regexp_full_match(amount, '[0-9]+(\\.[0-9]{1,2})?') AND amount::DOUBLE > 0 AND amount::DOUBLE < 1e14
  AND (merchant_category IS NULL OR regexp_full_match(merchant_category, '[0-9]{4}'))
  AND regexp_full_match(occurred_at, '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}')
  AND length(trim(txn_id)) BETWEEN 1 AND 64 AND length(trim(counterparty_id)) BETWEEN 1 AND 64
  AND length(coalesce(counterparty_name, '')) <= 200"""


def bench_load(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "transactions.csv"
        run.write_file(path, rows)
        print(f"load: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB file", flush=True)
        db = duckdb.connect(str(Path(tmp) / "load.duckdb"), config={"threads": 2})
        db.execute("CREATE TABLE registry (employee_no VARCHAR)")
        db.executemany("INSERT INTO registry VALUES (?)", [[f"E{e:03d}"] for e in range(run.EMPLOYEES)])
        floors, loads = [], []
        for rep in range(repeat):
            db.execute(f"DROP TABLE IF EXISTS bare; CREATE TABLE bare ({TYPED})")
            t_floor, _ = run.timed(lambda: db.execute(f"COPY bare FROM '{path}' (HEADER true)"))
            db.execute("DROP TABLE bare")
            db.execute("DROP TABLE IF EXISTS txn; CREATE TABLE txn (institution_id INTEGER, txn_id VARCHAR, "
                       "employee_no VARCHAR, occurred_at TIMESTAMP, occurred_on DATE, direction VARCHAR, "
                       "amount DECIMAL(16,2), channel VARCHAR, counterparty_id VARCHAR, counterparty_name VARCHAR, "
                       "counterparty_type VARCHAR, merchant_category VARCHAR, PRIMARY KEY (institution_id, txn_id))")

            def load():
                db.execute("BEGIN")
                db.execute(f"CREATE TEMP TABLE raw AS SELECT * FROM read_csv('{path}', header = true, "
                           "all_varchar = true)")
                copied = db.execute("SELECT count(*) FROM raw").fetchone()[0]
                inserted = db.execute(f"INSERT OR REPLACE INTO txn {CHECKED}").fetchone()[0]
                db.execute("DROP TABLE raw")
                if inserted != copied:
                    db.execute("ROLLBACK")
                    raise AssertionError(f"{copied - inserted} rows failed a check")
                db.execute("COMMIT")
                return inserted

            t_load, n = run.timed(load)
            assert n == rows, n
            floors.append(t_floor)
            loads.append(t_load)
            print(f"  #{rep + 1} (load average {os.getloadavg()[0]:.2f}): DuckDB bare COPY {t_floor:.2f} s; "
                  f"checked load with the primary key {t_load:.2f} s ({t_load / t_floor:.2f}×)", flush=True)
        f, lo = statistics.median(floors), statistics.median(loads)
        print(f"DuckDB load median: bare COPY {f:.2f} s, checked load {lo:.2f} s ({lo / f:.2f}×)", flush=True)
        db.close()


# --- 2. rules --------------------------------------------------------------------------------------

EXPORTS = {
    "txn": ("SELECT institution_id, txn_id, employee_no, occurred_on, direction, amount, channel, counterparty_id, "
            "counterparty_type, merchant_category, to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', "
            "'YYYY-MM-DD HH24:MI:SS') FROM risk_transaction WHERE institution_id = ANY(%s)",
            "institution_id BIGINT, txn_id VARCHAR, employee_no VARCHAR, occurred_on DATE, direction VARCHAR, "
            "amount DECIMAL(16,2), channel VARCHAR, counterparty_id VARCHAR, counterparty_type VARCHAR, "
            "merchant_category VARCHAR, occurred_local TIMESTAMP"),
    "evt": ("SELECT institution_id, id, employee_no, occurred_on, action, target_id, "
            "to_char(occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS') "
            "FROM risk_event WHERE institution_id = ANY(%s)",
            "institution_id BIGINT, id BIGINT, employee_no VARCHAR, occurred_on DATE, action VARCHAR, "
            "target_id VARCHAR, occurred_local TIMESTAMP"),
    "rel": ("SELECT institution_id, employee_no, counterparty_id, since, until FROM risk_relationship "
            "WHERE institution_id = ANY(%s)",
            "institution_id BIGINT, employee_no VARCHAR, counterparty_id VARCHAR, since DATE, until DATE"),
}

CUSTOMER = """EXISTS (SELECT 1 FROM rel r WHERE r.institution_id = {t}.institution_id
  AND r.employee_no = {t}.employee_no AND r.counterparty_id = {t}.{cp} AND r.since <= {t}.occurred_on
  AND (r.until IS NULL OR {t}.occurred_on <= r.until))"""
SCOPE = "{t}.institution_id IN ({ids}) AND {t}.occurred_on BETWEEN DATE '{f}' AND DATE '{to}'"
TXN_ROW = "{{'txn_id': {t}.txn_id, 'occurred_at': {t}.occurred_local, 'amount': {t}.amount}}"
EVT_ROW = "{{'occurred_at': {t}.occurred_local, 'action': {t}.action, 'target_id': {t}.target_id}}"


def statements(ids: str, holidays: str, workdays: str) -> dict[str, tuple[str, str]]:
    """Each rule as (keys only, with evidence), in DuckDB's dialect."""
    s = {"t": "t", "ids": ids, "f": DATE_FROM, "to": DATE_TO}
    scope_t, scope_e = SCOPE.format(**s), SCOPE.format(**{**s, "t": "e"})
    off_hours = (f"(e.occurred_local::TIME < TIME '07:30' OR e.occurred_local::TIME >= TIME '19:00' "
                 f"OR e.occurred_on IN ({holidays}) OR (isodow(e.occurred_on) IN (6, 7) "
                 f"AND e.occurred_on NOT IN ({workdays})))")
    r02_base = (f"SELECT t.*, t.occurred_on - DATE '2000-01-01' AS dn FROM txn t WHERE {scope_t} "
                f"AND t.channel = 'transfer' AND t.counterparty_type IN ('individual', 'company') "
                f"AND NOT {CUSTOMER.format(t='t', cp='counterparty_id')}")
    r03_base = (f"SELECT t.*, t.occurred_on - DATE '2000-01-01' AS dn FROM txn t WHERE {scope_t} "
                f"AND t.direction = 'out' AND t.channel = 'cash'")
    return {
        "R01": (f"""SELECT institution_id, employee_no, counterparty_id, strftime(occurred_on, '%Y-%m'), count(*)
            FROM txn t WHERE {scope_t} AND amount >= 5000 AND {CUSTOMER.format(t='t', cp='counterparty_id')}
            GROUP BY ALL""",
                f"""SELECT institution_id, employee_no, counterparty_id, strftime(occurred_on, '%Y-%m'),
            list({TXN_ROW.format(t='t')} ORDER BY occurred_local, txn_id)
            FROM txn t WHERE {scope_t} AND amount >= 5000 AND {CUSTOMER.format(t='t', cp='counterparty_id')}
            GROUP BY ALL"""),
        "R02": (f"""SELECT DISTINCT institution_id, employee_no, counterparty_id FROM (
            SELECT institution_id, employee_no, counterparty_id, count(*) OVER w AS n, sum(amount) OVER w AS s
            FROM ({r02_base}) b
            WINDOW w AS (PARTITION BY institution_id, employee_no, counterparty_id ORDER BY dn
                         {WINDOW_STEP.format(n=29)})) x WHERE n >= 3 AND s >= 50000""",
                f"""WITH win AS (SELECT b.*, count(*) OVER w >= 3 AND sum(amount) OVER w >= 50000 AS starts
                FROM ({r02_base}) b WINDOW w AS (PARTITION BY institution_id, employee_no, counterparty_id
                ORDER BY dn {WINDOW_STEP.format(n=29)})),
            covered AS (SELECT win.*, bool_or(starts) OVER (PARTITION BY institution_id, employee_no, counterparty_id
                ORDER BY dn RANGE BETWEEN 29 PRECEDING AND CURRENT ROW) AS hit FROM win)
            SELECT institution_id, employee_no, counterparty_id, list({TXN_ROW.format(t='c')} ORDER BY occurred_local,
                txn_id) FROM covered c WHERE hit GROUP BY ALL"""),
        "R03": (f"""SELECT DISTINCT institution_id, employee_no FROM (
            SELECT institution_id, employee_no, sum(amount) OVER w AS s FROM ({r03_base}) b
            WINDOW w AS (PARTITION BY institution_id, employee_no ORDER BY dn {WINDOW_STEP.format(n=6)})) x
            WHERE s >= 50000""",
                f"""WITH win AS (SELECT b.*, sum(amount) OVER w >= 50000 AS starts FROM ({r03_base}) b
                WINDOW w AS (PARTITION BY institution_id, employee_no ORDER BY dn {WINDOW_STEP.format(n=6)})),
            covered AS (SELECT win.*, bool_or(starts) OVER (PARTITION BY institution_id, employee_no
                ORDER BY dn RANGE BETWEEN 6 PRECEDING AND CURRENT ROW) AS hit FROM win)
            SELECT institution_id, employee_no, list({TXN_ROW.format(t='c')} ORDER BY occurred_local, txn_id)
            FROM covered c WHERE hit GROUP BY ALL"""),
        "R04": (f"""SELECT institution_id, employee_no, count(*) FROM txn t WHERE {scope_t}
            AND merchant_category IN ('7995', '7800', '7801', '7802') GROUP BY ALL""",
                f"""SELECT institution_id, employee_no, list({TXN_ROW.format(t='t')} ORDER BY occurred_local, txn_id)
            FROM txn t WHERE {scope_t} AND merchant_category IN ('7995', '7800', '7801', '7802') GROUP BY ALL"""),
        "R05": (f"""SELECT institution_id, employee_no, strftime(occurred_on, '%Y-%m') FROM evt e
            WHERE {scope_e} AND action IN ('modify_limit', 'override') AND {off_hours}
            GROUP BY ALL HAVING count(DISTINCT occurred_on) >= 3""",
                f"""WITH flagged AS (SELECT e.*, strftime(e.occurred_on, '%Y-%m') AS period FROM evt e
                WHERE {scope_e} AND action IN ('modify_limit', 'override') AND {off_hours}),
            months AS (SELECT institution_id, employee_no, period FROM flagged GROUP BY ALL
                HAVING count(DISTINCT occurred_on) >= 3)
            SELECT f.institution_id, f.employee_no, f.period, list({EVT_ROW.format(t='f')} ORDER BY f.occurred_local,
                f.id) FROM flagged f JOIN months m USING (institution_id, employee_no, period) GROUP BY ALL"""),
        "R06": (f"""SELECT institution_id, employee_no, occurred_on FROM evt e
            WHERE {scope_e} AND action = 'query_customer' AND target_id <> ''
            AND NOT {CUSTOMER.format(t='e', cp='target_id')} GROUP BY ALL HAVING count(*) >= 20""",
                f"""WITH q AS (SELECT e.* FROM evt e WHERE {scope_e} AND action = 'query_customer'
                AND target_id <> '' AND NOT {CUSTOMER.format(t='e', cp='target_id')}),
            days AS (SELECT institution_id, employee_no, occurred_on FROM q GROUP BY ALL HAVING count(*) >= 20)
            SELECT q.institution_id, q.employee_no, q.occurred_on, list({EVT_ROW.format(t='q')} ORDER BY
                q.occurred_local, q.id) FROM q JOIN days USING (institution_id, employee_no, occurred_on)
            GROUP BY ALL"""),
    }


def bench_rules(repeat: int, check_keys: bool) -> None:
    insts = run.institutions(60, "BR")
    ids = [i.pk for i in insts]
    n_txn = Transaction.objects.filter(institution_id__in=ids).count()
    if not n_txn:
        sys.exit("no rule data: run bench/risk/run.py (without --skip-rules) on this database first")
    holidays, workdays = services._calendar(DATE_FROM, DATE_TO)
    # an empty list: a date no row has (NOT IN (NULL) would be NULL, never true)
    quote = lambda days: ", ".join(f"DATE '{d}'" for d in sorted(days)) or "DATE '1900-01-01'"  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        files = {name: Path(tmp) / f"{name}.csv" for name in EXPORTS}

        def export():
            with connection.cursor() as c:
                for name, (query, _cols) in EXPORTS.items():
                    with files[name].open("w") as f:
                        c.cursor.copy_expert(c.cursor.mogrify(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)",
                                                              [ids]).decode(), f)
        t_export, _ = run.timed(export)
        db = duckdb.connect(str(Path(tmp) / "rules.duckdb"), config={"threads": 2})

        def load():
            for name, (_query, cols) in EXPORTS.items():
                db.execute(f"CREATE TABLE {name} ({cols})")
                db.execute(f"COPY {name} FROM '{files[name]}' (HEADER false)")
        t_load, _ = run.timed(load)
        print(f"rules: {len(ids)} institutions, {n_txn:,} transactions; exported from PostgreSQL in {t_export:.1f} s, "
              f"loaded into DuckDB in {t_load:.1f} s (load average {os.getloadavg()[0]:.2f})", flush=True)
        every = statements(", ".join(map(str, ids)), quote(holidays), quote(workdays))
        each = [statements(str(i), quote(holidays), quote(workdays)) for i in ids]
        pg_args = {"ids": ids, "f": DATE_FROM, "to": DATE_TO, "hol": sorted(holidays), "wd": sorted(workdays)}
        totals = [0.0, 0.0]
        for code, (keys_sql, _evidence_sql) in every.items():
            t_a, found = median_of(repeat, lambda sql=keys_sql: db.execute(sql).fetchall())
            t_b, _ = median_of(repeat, lambda code=code: [db.execute(s[code][0]).fetchall() for s in each])
            t_ev, rows = median_of(repeat, lambda code=code: [
                r for s in each for r in db.execute(s[code][1]).fetchall()])
            totals[0] += t_a
            totals[1] += t_ev
            line = (f"  {code}: DuckDB floor A {t_a:.2f} s ({len(found)} keys); floor B (per institution, summed) "
                    f"{t_b:.2f} s; with evidence, per institution {t_ev:.2f} s ({len(rows)} keys, {t_ev / t_a:.2f}× A)")
            if check_keys:
                with connection.cursor() as c:
                    c.execute(run.FLOORS[code], pg_args)
                    n_pg = len(c.fetchall())
                same = n_pg == len(found) == len(rows)
                line += f"; PostgreSQL floor A finds {n_pg} keys" + ("" if same else " (DIFFERENT)")
            print(line, flush=True)
        print(f"DuckDB totals: floors A {totals[0]:.1f} s, the six rules with evidence {totals[1]:.1f} s, "
              f"plus export {t_export:.1f} s and load {t_load:.1f} s", flush=True)
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--load-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-rules", action="store_true")
    parser.add_argument("--check-keys", action="store_true", help="also run PostgreSQL's floor A and compare keys")
    options = parser.parse_args()
    if "bench" not in connection.settings_dict["NAME"]:
        sys.exit("refusing: the database name must contain 'bench'")
    print(f"DuckDB {duckdb.__version__}; database {connection.settings_dict['NAME']}; "
          f"load average {os.getloadavg()[0]:.2f}; {dt.datetime.now():%Y-%m-%d %H:%M}", flush=True)
    if not options.skip_load:
        bench_load(options.load_rows, options.repeat)
    if not options.skip_rules:
        bench_rules(options.repeat, options.check_keys)


if __name__ == "__main__":
    main()
