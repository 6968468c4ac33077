"""The demo district's 风险预警 (seed_demo calls seed_risk): a year of synthetic extracts for three 路桥
banks (salaries, card spending, family transfers, cash, logins and customer look-ups), with planted
cases of every rule and their near misses, loaded through the same validation and COPY as an upload,
then screened. Deterministic and idempotent (txn_ids are fixed; events and relationships loaded
again replace themselves; a finished screening of the same dates is not run again).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

from django.contrib.auth import get_user_model
from django.utils import timezone

from institutions.models import Employee, Institution

from . import rules, services
from .models import Alert, AlertStatus, Screening, ScreeningStatus

DEMO_BANKS = ("LQ-B01", "LQ-B02", "LQ-B03")
MERCHANT_MCC = ("5411", "5812", "5541", "5311", "4121", "5912")


def _csv(kind: str, rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=rules.COLUMNS[kind])
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in rules.COLUMNS[kind]})
    return out.getvalue().encode()


def _working(day: dt.date, schedule) -> bool:
    from core.workdays import is_working_day

    return is_working_day(day, schedule)


def generate(code: str, employee_nos: list[str], start: dt.date, days: int, schedule, salt: int = 0):
    """(relationships, transactions, events) as lists of row dicts; the planted cases appended last."""
    rng = random.Random(f"{code}-{salt}")
    rels, txns, events = [], [], []
    seq = 0

    def txn(no, when, amount, cp, direction="out", channel="transfer", cp_type="individual", mcc=""):
        nonlocal seq
        seq += 1
        txns.append({"txn_id": f"{code}-T{seq:07d}", "employee_no": no,
                     "occurred_at": when.strftime("%Y-%m-%d %H:%M:%S"),
                     "direction": direction, "amount": f"{amount:.2f}", "channel": channel, "counterparty_id": cp,
                     "counterparty_name": cp, "counterparty_type": cp_type, "merchant_category": mcc})

    def evt(no, when, action, target=""):
        events.append({"employee_no": no, "occurred_at": when.strftime("%Y-%m-%d %H:%M:%S"), "action": action,
                       "target_id": target})

    customers: dict[str, list[str]] = {}
    for index, no in enumerate(employee_nos):
        mine = [f"{code}-C{index:03d}{k:02d}" for k in range(rng.randint(5, 12))]
        customers[no] = mine
        for cp in mine:
            rels.append({"employee_no": no, "counterparty_id": cp, "relation": rng.choice(rules.CHOICES["relation"]),
                         "since": (start - dt.timedelta(days=rng.randint(30, 900))).isoformat(), "until": ""})
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        working = _working(day, schedule)
        for no in employee_nos:
            at = dt.datetime.combine(day, dt.time(0, 0))
            if day.day == 25:
                txn(no, at + dt.timedelta(hours=10), rng.randint(8000, 16000), "PAYROLL", "in", cp_type="company")
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                txn(no, at + dt.timedelta(hours=rng.randint(9, 21), minutes=rng.randint(0, 59)),
                    rng.randint(1500, 80000) / 100, f"MER{rng.randint(1, 60):03d}", channel="card",
                    cp_type="merchant", mcc=rng.choice(MERCHANT_MCC))
            if rng.random() < 0.05:
                txn(no, at + dt.timedelta(hours=rng.randint(8, 20)), rng.randint(200, 3000),
                    f"FAM-{no}-{rng.randint(1, 4)}", rng.choice(("in", "out")))
            if rng.random() < 0.02:
                txn(no, at + dt.timedelta(hours=rng.randint(9, 16)), rng.randint(500, 3000), "ATM", channel="cash",
                    cp_type="company")
            if working:
                evt(no, at + dt.timedelta(hours=8, minutes=rng.randint(20, 59)), "login")
                for _ in range(rng.randint(2, 6)):
                    target = rng.choice(customers[no]) if rng.random() < 0.85 else f"{code}-X{rng.randint(1, 999):03d}"
                    evt(no, at + dt.timedelta(hours=rng.randint(9, 17), minutes=rng.randint(0, 59)),
                        "query_customer", target)
                if rng.random() < 0.03:
                    evt(no, at + dt.timedelta(hours=rng.randint(9, 17)), "modify_limit", rng.choice(customers[no]))
    # --- planted cases and near misses ----------------------------------------------------------
    e = {name: employee_nos[i] for i, name in enumerate(("r01", "r02", "r02n", "r03", "r03n", "r04", "r05", "r05n",
                                                          "r06", "r06n"))}
    base = dt.datetime.combine(start + dt.timedelta(days=60 + 7 * DEMO_BANKS.index(code)), dt.time(10, 0))
    txn(e["r01"], base, 20000, customers[e["r01"]][0], "in", cp_type="customer")  # R01
    txn(e["r01"], base + dt.timedelta(days=40), 4999.99, customers[e["r01"]][1], cp_type="customer")  # near miss
    for k, amount in enumerate((25000, 20000, 15000)):  # R02: 60,000 in 20 days
        txn(e["r02"], base + dt.timedelta(days=10 * k), amount, "PRIV-LOAN-1", rng.choice(("in", "out")))
    for k, amount in enumerate((20000, 20000, 9999.99)):  # near miss: one cent below
        txn(e["r02n"], base + dt.timedelta(days=10 * k), amount, "PRIV-LOAN-2")
    txn(e["r03"], base, 30000, "ATM", channel="cash", cp_type="company")  # R03: 55,000 in 5 days
    txn(e["r03"], base + dt.timedelta(days=4), 25000, "ATM", channel="cash", cp_type="company")
    txn(e["r03n"], base, 25000, "ATM", channel="cash", cp_type="company")  # near miss: 8 days
    txn(e["r03n"], base + dt.timedelta(days=7), 25000, "ATM", channel="cash", cp_type="company")
    if code == DEMO_BANKS[0]:
        txn(e["r04"], base + dt.timedelta(hours=12), 888, "CASINO-ONLINE", channel="card", cp_type="merchant",
            mcc="7995")  # R04
    month = (base + dt.timedelta(days=35)).replace(day=3, hour=22, minute=15)
    for k in (0, 5, 9):  # R05: three late evenings of one month
        evt(e["r05"], month + dt.timedelta(days=k), "override", customers[e["r05"]][0])
    evt(e["r05n"], month.replace(hour=7, minute=30), "override")  # near misses: 07:30 and 18:59
    evt(e["r05n"], month.replace(hour=18, minute=59) + dt.timedelta(days=1), "modify_limit")
    evt(e["r05n"], month + dt.timedelta(days=2), "override")
    quiet = base + dt.timedelta(days=90)
    while _working(quiet.date(), schedule):  # a rest day: no routine look-ups to add to the near miss
        quiet += dt.timedelta(days=1)
    for k in range(25):  # R06: 25 look-ups of other people's customers on one day
        evt(e["r06"], quiet + dt.timedelta(minutes=7 * k), "query_customer", f"{code}-Z{k:03d}")
    for k in range(19):  # near miss: 19
        evt(e["r06n"], quiet + dt.timedelta(minutes=7 * k), "query_customer", f"{code}-Z{k:03d}")
    return rels, txns, events


def seed_risk() -> str:
    """Create the demo data once (idempotent); return a one-line summary, or "" for nothing."""
    from complaints.selectors import holiday_schedule

    if services.screening_unavailable():
        # SQLite (make run without DATABASE_URL): the rules cannot screen there, so nothing is loaded (a
        # year of extracts took a minute to load, for screenings that could only fail).
        return "风险预警：演示需要 PostgreSQL（设置 DATABASE_URL 后重新运行 make run），本次未载入"
    today = timezone.localdate()
    end = today.replace(day=1) - dt.timedelta(days=1)
    start = (end - dt.timedelta(days=364))
    schedule = holiday_schedule({start.year, end.year})
    loaded = screened = 0
    alerts = 0
    for code in DEMO_BANKS:
        institution = Institution.objects.filter(code=code).first()
        if institution is None:
            continue
        employee_nos = sorted(Employee.objects.filter(institution=institution).values_list("employee_no", flat=True))
        if len(employee_nos) < 10:
            continue
        done = Screening.objects.filter(institution=institution, date_from=start, date_to=end,
                                        status=ScreeningStatus.DONE).first()
        if done is None:
            rels, txns, events = generate(code, employee_nos, start, (end - start).days + 1, schedule)
            for kind, rows in (("relationships", rels), ("transactions", txns), ("events", events)):
                data = _csv(kind, rows)
                clean = services.parse_extract(institution, kind, data, f"demo-{kind}.csv")
                services.store_rows(institution, kind, clean, filename=f"演示{kind}.csv")
                loaded += len(clean)
            done = services.screen_in_process(institution, start, end)
            screened += 1
        alerts += Alert.objects.filter(institution=institution).count()
    _demo_dispositions()
    if not loaded and not screened:
        return ""
    return f"风险预警：载入 {loaded} 行数据，筛查 {screened} 家机构，共 {alerts} 条预警"


def _demo_dispositions() -> None:
    """LQ-B01's filer has reviewed some alerts: one dismissed, one confirmed and escalated."""
    filer = get_user_model().objects.filter(username="filer").first()
    institution = Institution.objects.filter(code=DEMO_BANKS[0]).first()
    if filer is None or institution is None or institution.pk not in services.actor_institution_ids(filer):
        return
    mine = Alert.objects.filter(institution=institution)
    if mine.exclude(status=AlertStatus.NEW).exists():
        return
    r04 = mine.filter(rule="R04").first()
    if r04:
        services.act(filer, r04, "review", "调取交易明细核实")
        services.act(filer, r04, "confirm", "员工承认在境外博彩网站消费")
        services.act(filer, r04, "escalate", "涉赌，上报区金融工作中心")
    r03 = mine.filter(rule="R03").first()
    if r03:
        services.act(filer, r03, "review", "")
        services.act(filer, r03, "dismiss", "购房首付款，已提供购房合同")
    r06 = mine.filter(rule="R06").first()
    if r06:
        services.act(filer, r06, "review", "已约谈")
