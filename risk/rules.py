"""The rule library R01–R06 of RISK.md: each rule's code, title, severity, version, parameters with
their defaults, and its one set-based SQL statement (PostgreSQL, window functions) over one
institution's rows; plus the pure helpers (parameter validation, periods, due days, row parsing).

Every statement takes the named parameters `inst`, `date_from`, `date_to`, `period` (the screening's
"FROM/TO") and the rule's own parameters, and returns rows `(employee_no, counterparty_id, period,
evidence)`: one row per alert key, evidence a JSON array of the rows that raised it.

Changing a rule's SQL or meaning: bump its `version` (alerts record the version they were raised with).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

SHANGHAI = "Asia/Shanghai"

# --- parameters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "money", "int", "days", "codes", "time"
    default: object
    label: str


def _money(value) -> str:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(_("须为金额")) from exc
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("须为正数，最多两位小数"))
    return str(amount.quantize(Decimal("0.01")))


def _int(value, low=1, high=100000) -> int:
    if isinstance(value, bool):
        raise ValueError(_("须为整数"))
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise ValueError(_("须为整数")) from exc
    if not low <= number <= high:
        raise ValueError(_("须在 {low} 至 {high} 之间").format(low=low, high=high))
    return number


def _codes(value) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value or [])
    codes = [str(i).strip() for i in items if str(i).strip()]
    if not codes or any(not re.fullmatch(r"\d{4}", c) for c in codes):
        raise ValueError(_("须为一个或多个 4 位商户类别码"))
    return sorted(set(codes))


def _time(value) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise ValueError(_("须为 HH:MM"))
    return text


CONVERTERS = {"money": _money, "int": _int, "days": lambda v: _int(v, 1, 366), "codes": _codes, "time": _time}

# --- SQL pieces ------------------------------------------------------------------------------------

_CUSTOMER_AT = """EXISTS (SELECT 1 FROM risk_relationship r
    WHERE r.institution_id = {t}.institution_id AND r.employee_no = {t}.employee_no
      AND r.counterparty_id = {t}.{cp} AND r.since <= {t}.occurred_on
      AND (r.until IS NULL OR {t}.occurred_on <= r.until))"""

# The evidence's time: JSON's own rendering of a timestamptz ("2026-03-10T09:00:00+08:00"), which
# services.rule_rows gets by running the statement with the session's time zone at UTC+8, to the
# second (a to_char per row cost about a fifth of a statement that returns many rows).
_LOCAL = "date_trunc('second', {t}.occurred_at)"

# Evidence items: a row of named columns per transaction or event, which json_agg renders as an object
# ({"txn_id": …, "occurred_at": …}); cheaper than json_build_object per row. Joined LATERAL as `x`.
_TXN_ITEM = ("LATERAL (SELECT {t}.txn_id, " + _LOCAL + " AS occurred_at, {t}.direction, {t}.amount::text AS amount, "
             "{t}.channel, {t}.counterparty_id, {t}.counterparty_type, {t}.merchant_category) x")
_EVT_ITEM = "LATERAL (SELECT " + _LOCAL + " AS occurred_at, {t}.action, {t}.target_id) x"

_TXN_SCOPE = ("{t}.institution_id = %(inst)s AND {t}.occurred_on BETWEEN %(date_from)s AND %(date_to)s")

# What the window rules carry through their sorts: the evidence's columns and the keys, not the row
_EVIDENCE_COLUMNS = ("t.employee_no, t.txn_id, t.occurred_at, t.direction, t.amount, t.channel, t.counterparty_id, "
                     "t.counterparty_type, t.merchant_category")


def _txn_item(t="t"):
    return _TXN_ITEM.format(t=t)


def _evt_item(t="e"):
    return _EVT_ITEM.format(t=t)


R01_SQL = f"""
SELECT t.employee_no, t.counterparty_id, to_char(t.occurred_on, 'YYYY-MM') AS period,
       json_agg(x ORDER BY t.occurred_at, t.txn_id) AS evidence
FROM risk_transaction t, {_txn_item()}
WHERE {_TXN_SCOPE.format(t='t')} AND t.amount >= %(min_amount)s::numeric
  AND {_CUSTOMER_AT.format(t='t', cp='counterparty_id')}
GROUP BY t.employee_no, t.counterparty_id, to_char(t.occurred_on, 'YYYY-MM')
"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)

# A window of N days starting on each row's day (every window that holds rows starts on one of
# them, and moving a window's start to its first row only drops days without rows). The evidence is
# every row inside some qualifying window: a row on day d is, when a window starting on a day in
# [d - span, d] qualifies — a second window over the same order, not a join of rows with starts
# (which grew with the square of an employee's rows).
R02_SQL = f"""
WITH base AS (
  SELECT {_EVIDENCE_COLUMNS}, (t.occurred_on - DATE '2000-01-01') AS dn
  FROM risk_transaction t
  WHERE {_TXN_SCOPE.format(t='t')} AND t.channel = 'transfer'
    AND t.counterparty_type IN ('individual', 'company')
    AND NOT {_CUSTOMER_AT.format(t='t', cp='counterparty_id')}
), win AS (
  SELECT base.*, COUNT(*) OVER w >= %(min_count)s AND SUM(amount) OVER w >= %(min_total)s::numeric AS starts
  FROM base
  WINDOW w AS (PARTITION BY employee_no, counterparty_id ORDER BY dn
               RANGE BETWEEN CURRENT ROW AND %(span)s FOLLOWING)
), covered AS (
  SELECT win.*, bool_or(starts) OVER (PARTITION BY employee_no, counterparty_id ORDER BY dn
                                      RANGE BETWEEN %(span)s PRECEDING AND CURRENT ROW) AS hit
  FROM win
)
SELECT b.employee_no, b.counterparty_id, %(period)s AS period,
       json_agg(x ORDER BY b.occurred_at, b.txn_id) AS evidence
FROM covered b, {_txn_item('b')} WHERE b.hit
GROUP BY b.employee_no, b.counterparty_id
"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)

R03_SQL = f"""
WITH base AS (
  SELECT {_EVIDENCE_COLUMNS}, (t.occurred_on - DATE '2000-01-01') AS dn
  FROM risk_transaction t
  WHERE {_TXN_SCOPE.format(t='t')} AND t.direction = 'out' AND t.channel = 'cash'
), win AS (
  SELECT base.*, SUM(amount) OVER w >= %(min_total)s::numeric AS starts
  FROM base
  WINDOW w AS (PARTITION BY employee_no ORDER BY dn RANGE BETWEEN CURRENT ROW AND %(span)s FOLLOWING)
), covered AS (
  SELECT win.*, bool_or(starts) OVER (PARTITION BY employee_no ORDER BY dn
                                      RANGE BETWEEN %(span)s PRECEDING AND CURRENT ROW) AS hit
  FROM win
)
SELECT b.employee_no, '' AS counterparty_id, %(period)s AS period,
       json_agg(x ORDER BY b.occurred_at, b.txn_id) AS evidence
FROM covered b, {_txn_item('b')} WHERE b.hit
GROUP BY b.employee_no
"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)

R04_SQL = f"""
SELECT t.employee_no, '' AS counterparty_id, %(period)s AS period,
       json_agg(x ORDER BY t.occurred_at, t.txn_id) AS evidence
FROM risk_transaction t, {_txn_item()}
WHERE {_TXN_SCOPE.format(t='t')} AND t.merchant_category = ANY(%(mcc)s)
GROUP BY t.employee_no
"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)

R05_SQL = f"""
SELECT e.employee_no, '' AS counterparty_id,
       to_char(date_trunc('month', e.occurred_on::timestamp), 'YYYY-MM') AS period,
       json_agg(x ORDER BY e.occurred_at, e.id) AS evidence
FROM risk_event e, {_evt_item('e')}
WHERE {_TXN_SCOPE.format(t='e')} AND e.action = ANY(%(actions)s)
  AND ((e.occurred_at AT TIME ZONE 'Asia/Shanghai')::time < %(day_start)s::time
       OR (e.occurred_at AT TIME ZONE 'Asia/Shanghai')::time >= %(day_end)s::time
       OR e.occurred_on = ANY(%(holidays)s::date[])
       OR (EXTRACT(ISODOW FROM e.occurred_on) IN (6, 7) AND NOT e.occurred_on = ANY(%(workdays)s::date[])))
GROUP BY e.employee_no, date_trunc('month', e.occurred_on::timestamp)
HAVING COUNT(DISTINCT e.occurred_on) >= %(min_days)s
"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)

R06_SQL = f"""
WITH q AS (
  SELECT e.* FROM risk_event e
  WHERE {_TXN_SCOPE.format(t='e')} AND e.action = 'query_customer' AND e.target_id <> ''
    AND NOT {_CUSTOMER_AT.format(t='e', cp='target_id')}
), days AS (
  SELECT employee_no, occurred_on FROM q GROUP BY 1, 2 HAVING COUNT(*) >= %(min_queries)s
)
SELECT q.employee_no, '' AS counterparty_id, to_char(q.occurred_on, 'YYYY-MM-DD') AS period,
       json_agg(x ORDER BY q.occurred_at, q.id) AS evidence
FROM q JOIN days d ON d.employee_no = q.employee_no AND d.occurred_on = q.occurred_on,
     {_evt_item('q')}
GROUP BY q.employee_no, q.occurred_on
"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    severity: str
    version: str
    params: tuple[Param, ...]
    sql: str
    keyed_by_counterparty: bool = False
    needs_calendar: bool = False
    description: str = ""
    fixed: dict = field(default_factory=dict)

    def defaults(self) -> dict:
        return {p.name: CONVERTERS[p.kind](p.default) for p in self.params}


RULES: dict[str, Rule] = {r.code: r for r in (
    Rule("R01", "与本人客户资金往来", "high", "1",  # i18n-exempt: rule title fixed by RISK.md (contract)
         (Param("min_amount", "money", "5000.00", gettext_lazy("单笔金额下限（元）")),),
         R01_SQL, keyed_by_counterparty=True,
         description=gettext_lazy("员工与交易当时其本人服务的客户之间单笔金额不低于下限的资金往来（转入或转出）；每名员工、每个对手方、每个自然月一条预警。")),
    Rule("R02", "疑似参与民间借贷", "high", "2",  # i18n-exempt: rule title fixed by RISK.md (contract)
         (Param("min_count", "int", 3, gettext_lazy("笔数下限")),
          Param("window_days", "days", 30, gettext_lazy("窗口天数")),
          Param("min_total", "money", "50000.00", gettext_lazy("金额合计下限（元）"))),
         R02_SQL, keyed_by_counterparty=True,
         description=gettext_lazy("员工与同一非本人客户的个人或企业之间的转账，在任意连续窗口天数内不少于笔数下限且合计不低于金额下限；每名员工、每个对手方、每次筛查一条预警。")),
    Rule("R03", "大额现金支取", "medium", "2",  # i18n-exempt: rule title fixed by RISK.md (contract)
         (Param("min_total", "money", "50000.00", gettext_lazy("金额合计下限（元）")),
          Param("window_days", "days", 7, gettext_lazy("窗口天数"))),
         R03_SQL,
         description=gettext_lazy("员工现金转出在任意连续窗口天数内合计不低于下限；每名员工、每次筛查一条预警。")),
    Rule("R04", "涉赌交易", "high", "1",  # i18n-exempt: rule title fixed by RISK.md (contract)
         (Param("mcc", "codes", ["7995", "7800", "7801", "7802"], gettext_lazy("商户类别码")),), R04_SQL,
         description=gettext_lazy("员工任一交易的商户类别码属于涉赌类别；每名员工、每次筛查一条预警。")),
    Rule("R05", "非工作时间敏感操作", "medium", "1",  # i18n-exempt: rule title fixed by RISK.md (contract)
         (Param("min_days", "days", 3, gettext_lazy("同月天数下限")),
          Param("day_start", "time", "07:30", gettext_lazy("上班时间")),
          Param("day_end", "time", "19:00", gettext_lazy("下班时间"))), R05_SQL, needs_calendar=True,
         fixed={"actions": ["modify_limit", "override"]},
         description=gettext_lazy("员工在上班时间之前、下班时间起或休息日（按法定节假日与调休）进行调整额度或越权操作，同一自然月内不少于天数下限；每名员工、每月一条预警。")),
    Rule("R06", "无业务关联查询客户", "medium", "1",  # i18n-exempt: rule title fixed by RISK.md (contract)
         (Param("min_queries", "int", 20, gettext_lazy("单日次数下限")),), R06_SQL,
         description=gettext_lazy("员工同一天查询当日非本人客户的次数不少于下限；每名员工、每天一条预警。")),
)}

DUE_WORKING_DAYS = {"high": 5, "medium": 10}


def validate_params(code: str, params: dict | None) -> dict:
    """The rule's full parameters: the defaults overridden by `params` (validated). Raises ValueError
    with a Chinese message naming the parameter."""
    rule = RULES[code]
    known = {p.name: p for p in rule.params}
    unknown = sorted(set(params or {}) - set(known))
    if unknown:
        raise ValueError(_("规则 {code} 没有参数 {names}").format(code=code, names="、".join(unknown)))
    out = rule.defaults()
    for name, value in (params or {}).items():
        try:
            out[name] = CONVERTERS[known[name].kind](value)
        except ValueError as exc:
            raise ValueError(_("参数 {name}（{label}）{error}").format(
                name=name, label=known[name].label, error=exc)) from exc
    if code == "R05" and out["day_start"] >= out["day_end"]:
        raise ValueError(_("参数 day_start 须早于 day_end"))
    return out


def sql_arguments(code: str, params: dict, *, institution_id: int, date_from: dt.date, date_to: dt.date,
                  holidays=(), workdays=()) -> dict:
    """The named arguments of the rule's statement."""
    rule = RULES[code]
    args = {"inst": institution_id, "date_from": date_from, "date_to": date_to,
            "period": screening_period(date_from, date_to), **rule.fixed, **params}
    if "window_days" in params:
        args["span"] = int(params["window_days"]) - 1
    if rule.needs_calendar:
        args["holidays"] = sorted(holidays)
        args["workdays"] = sorted(workdays)
    return args


def screening_period(date_from: dt.date, date_to: dt.date) -> str:
    return f"{date_from.isoformat()}/{date_to.isoformat()}"


def merge_evidence(old: list, new: list) -> tuple[list, bool]:
    """The old evidence plus the new items not already in it (order kept); whether anything was added."""
    seen = {_identity(item) for item in old}
    added = [item for item in new if _identity(item) not in seen]
    return (old + added, bool(added)) if added else (old, False)


def _identity(item) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in item.items())) if isinstance(item, dict) else (str(item),)


# --- parsing the extracts --------------------------------------------------------------------------

COLUMNS = {
    "transactions": ("txn_id", "employee_no", "occurred_at", "direction", "amount", "channel", "counterparty_id",
                     "counterparty_name", "counterparty_type", "merchant_category"),
    "relationships": ("employee_no", "counterparty_id", "relation", "since", "until"),
    "events": ("employee_no", "occurred_at", "action", "target_id"),
}
OPTIONAL = {"transactions": {"merchant_category", "counterparty_name"}, "relationships": {"until"},
            "events": {"target_id"}}
MAX_LENGTHS = {"txn_id": 64, "employee_no": 32, "counterparty_id": 64, "counterparty_name": 200,
               "target_id": 64, "action": 40}
CHOICES = {"direction": ("in", "out"), "channel": ("transfer", "cash", "card"),
           "counterparty_type": ("customer", "employee", "company", "individual", "merchant"),
           "relation": ("loan_officer", "account_manager")}
SHANGHAI_OFFSET = dt.timezone(dt.timedelta(hours=8))


def parse_amount(text: str) -> Decimal:
    try:
        amount = Decimal(text.replace(",", "")) if text else None
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise ValueError(_("amount「{value}」不是金额").format(value=text))
    if amount <= 0:
        raise ValueError(_("amount 须为正数"))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("amount 最多两位小数"))
    if amount >= Decimal("1e14"):
        raise ValueError(_("amount 过大"))
    return amount


def parse_local_datetime(text: str, column: str = "occurred_at") -> dt.datetime:
    """An ISO date-time; without an offset it is Asia/Shanghai time. Returns an aware datetime."""
    value = text.strip()
    try:
        moment = dt.datetime.fromisoformat(value.replace("/", "-"))
    except ValueError as exc:
        raise ValueError(_("{column}「{value}」不是日期时间（如 2026-03-05 08:30:00）").format(
            column=column, value=text)) from exc
    if len(value) <= 10:
        raise ValueError(_("{column}「{value}」缺少时间").format(column=column, value=text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI_OFFSET)  # China keeps UTC+8 all year, no DST
    return moment


def local_date(moment: dt.datetime) -> dt.date:
    return moment.astimezone(SHANGHAI_OFFSET).date()


def parse_date(text: str, column: str) -> dt.date:
    value = text.strip().replace("/", "-")
    if len(value) > 10 and value[10:].strip(" T") in ("00:00:00", "00:00"):
        value = value[:10]  # a spreadsheet's date cell
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(_("{column}「{value}」不是日期（如 2026-03-05）").format(column=column, value=text)) from exc


def parse_row(kind: str, row: dict, employees: frozenset[str] | set[str]) -> tuple[dict, list[str]]:
    """One row of an extract: the clean values, and the problems (Chinese) — all of them."""
    problems: list[str] = []
    clean: dict = {}
    for column in COLUMNS[kind]:
        value = str(row.get(column) or "").strip()
        if not value and column not in OPTIONAL[kind]:
            problems.append(_("{column} 不能为空").format(column=column))
            continue
        limit = MAX_LENGTHS.get(column)
        if limit and len(value) > limit:
            problems.append(_("{column} 超过 {limit} 个字符").format(column=column, limit=limit))
            continue
        if column in CHOICES and value not in CHOICES[column]:
            problems.append(_("{column}「{value}」无效，应为 {choices}").format(
                column=column, value=value, choices="/".join(CHOICES[column])))
            continue
        try:
            if column == "occurred_at":
                value = parse_local_datetime(value)
            elif column == "amount":
                value = parse_amount(value)
            elif column in ("since", "until"):
                value = parse_date(value, column) if value else None
            elif column == "merchant_category" and value and not re.fullmatch(r"\d{4}", value):
                raise ValueError(_("merchant_category「{value}」须为 4 位数字").format(value=value))
        except ValueError as exc:
            problems.append(str(exc))
            continue
        clean[column] = value
    if "employee_no" in clean and clean["employee_no"] not in employees:
        problems.append(_("工号 {number} 不是本机构的员工").format(number=clean["employee_no"]))
    if kind == "relationships" and clean.get("until") and clean.get("since") and clean["until"] < clean["since"]:
        problems.append(_("until 早于 since"))
    return clean, problems
