"""风险预警: every write. Loading the extracts (validated whole, written set-based), rule settings and
suppressions, screenings (one set-based statement per rule, an advisory lock per institution),
the alerts' review workflow, reminders, the stored district figures and the retention purge.

Who may act: an institution's filers and heads act on their institution's data; the district's
finance center reads escalated alerts and the summary and may forward an escalated alert.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import orjson
import psycopg2.extras
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from core import locks, outbox
from core.errors import DomainError, NotAllowed, NotFound, StateConflict, Unavailable
from core.tabular import RowProblem, TabularError, load_dataset
from core.workdays import add_working_days
from institutions import access
from institutions.models import Employee, Institution, Membership, Role

from . import rules
from .models import (
    Alert,
    AlertAction,
    AlertStatus,
    Event,
    InstitutionSummary,
    Kind,
    Relationship,
    RuleSetting,
    RuleSettingChange,
    Screening,
    ScreeningStatus,
    Suppression,
    Transaction,
    Upload,
)

logger = logging.getLogger(__name__)

ACTORS = (Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
LOCK_NAMESPACE = 15_0001  # pg_advisory_xact_lock(namespace, institution id): one screening per institution
SUMMARY_LOCK_NAMESPACE = 15_0003  # the same, keyed by institution and year: one recount of its summary at a time
LOAD_LOCK_NAMESPACE = 15_0002  # the same for loads: one load of an institution's rows at a time
MAX_PROBLEMS = 200


class LoadRefused(DomainError):
    """The file was refused whole: `problems` are the rows at fault (line numbers, header = 1)."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(_("文件有 {n} 处错误，未导入任何数据").format(n=len(problems)))
        self.problems = problems


# --- who ---------------------------------------------------------------------------------------------

def actor_institution_ids(user) -> frozenset[int]:
    """The institutions whose risk data the user works on (filer or head membership). Not the
    installation administrator: the data stays with its institution (RISK.md)."""
    return access.member_institution_ids(user, *ACTORS)


def acting_institution(user, code: str | None = None) -> Institution:
    """The institution an upload or screening is for: `code` when given, else the user's only one."""
    ids = actor_institution_ids(user)
    code = (code or "").strip()
    if code:
        institution = Institution.objects.filter(code=code).first()
        if institution is None or not access.can_access_institution(user, institution):
            raise NotFound(_("未找到该机构，或您无权访问"))
        if institution.pk not in ids:
            raise NotAllowed(_("只有本机构的填报员或负责人可以办理风险预警"))
        return institution
    if not ids:
        raise NotAllowed(_("只有机构的填报员或负责人可以办理风险预警"))
    if len(ids) > 1:
        raise DomainError(_("您属于多个机构，请用 institution 参数指明机构编码"), field="institution")
    return Institution.objects.get(pk=next(iter(ids)))


# --- loading -----------------------------------------------------------------------------------------

def _read(data: bytes, filename: str, kind: str) -> Iterator[tuple[int, dict]]:
    """(line, row) of the file; raises TabularError for a file that cannot be read at all."""
    columns = rules.COLUMNS[kind]
    required = [c for c in columns if c not in rules.OPTIONAL[kind]]
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".csv", ".txt"):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise TabularError(_("CSV 文件须为 UTF-8 编码（可带 BOM）")) from exc
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        except csv.Error as exc:
            raise TabularError(_("无法读取 CSV 文件：{error}").format(error=exc)) from exc
        _check_header(header, required, columns)

        def rows():
            width = len(header)
            try:
                for cells in reader:
                    if not any(c.strip() for c in cells):
                        continue
                    if any(c.strip() for c in cells[width:]):
                        yield reader.line_num, {"__extra__": len(cells)}
                        continue
                    yield reader.line_num, dict(zip(header, cells, strict=False))
            except csv.Error as exc:
                raise TabularError(_("无法读取 CSV 文件（第 {line} 行）：{error}").format(
                    line=reader.line_num, error=exc)) from exc
        return rows()
    dataset = load_dataset(data, filename or "", required)
    header = list(dataset.headers)
    _check_header(header, required, columns)
    return ((number + 2, {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)})
            for number, row in enumerate(dataset))


def _check_header(header, required, columns) -> None:
    if not any(header):
        raise TabularError(_("文件缺少表头行"))
    missing = [c for c in required if c not in header]
    if missing:
        raise TabularError(_("缺少列：{missing}；应有列：{required}").format(
            missing="、".join(missing), required=", ".join(columns)))


def parse_extract(institution: Institution, kind: str, data: bytes, filename: str) -> list[dict]:
    """Every row of the file, validated; raises LoadRefused with every bad row (nothing is stored)."""
    if kind not in Kind.values:
        raise DomainError(_("kind 须为 {choices}").format(choices="/".join(Kind.values)), field="kind")
    try:
        source = _read(data, filename, kind)
        employees = frozenset(Employee.objects.filter(institution=institution).values_list("employee_no", flat=True))
        problems: list[RowProblem] = []
        clean_rows: list[dict] = []
        seen_txn: dict[str, int] = {}
        for line, row in source:
            if "__extra__" in row:
                problems.append(RowProblem(line, _("有 {cells} 列，多于表头").format(cells=row["__extra__"])))
                continue
            clean, row_problems = rules.parse_row(kind, row, employees)
            if kind == Kind.TRANSACTIONS and "txn_id" in clean:
                first = seen_txn.setdefault(clean["txn_id"], line)
                if first != line:
                    row_problems.append(_("txn_id {txn_id} 与第 {first} 行重复").format(
                        txn_id=clean['txn_id'], first=first))
            if row_problems:
                problems.append(RowProblem(line, "；".join(row_problems)))
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            if not problems:
                clean_rows.append(clean)
    except TabularError as exc:
        raise LoadRefused([RowProblem(1, str(exc))]) from exc
    if problems:
        raise LoadRefused(problems)
    if not clean_rows:
        raise LoadRefused([RowProblem(1, _("文件没有数据行"))])
    return clean_rows


def load_extract(user, institution: Institution, kind: str, data: bytes, filename: str) -> Upload:
    """Validate the whole file, then store every row (idempotent: a txn_id, a relationship or an
    event loaded again replaces the stored one). Nothing is stored on any error."""
    if institution.pk not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以上传数据"))
    upload = _fast_load_transactions(institution, data, filename, user) if kind == Kind.TRANSACTIONS else None
    if upload is None:
        clean_rows = parse_extract(institution, kind, data, filename)
        upload = store_rows(institution, kind, clean_rows, filename=filename, user=user)
    if kind == Kind.TRANSACTIONS:
        transaction.on_commit(summarize_new_pages)
    return upload


SUMMARIZE_LOCK_TIMEOUT = "2s"
TRANSACTIONS_BRIN_INDEX = "risk_txn_inst_day_brin"


def summarize_new_pages() -> None:
    """Summarize the pages a load appended in the transactions' BRIN index (migration 0003). Until a
    page range is summarized every screening's bitmap includes it, whatever the institution; VACUUM
    (autosummarize) does it too, later. Reads only the new pages.

    Runs after the load has committed, so it must never fail the upload: it waits at most
    SUMMARIZE_LOCK_TIMEOUT for its lock (a VACUUM or another load's summarizing holds it) and any
    database error is logged and left to autovacuum."""
    if connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [SUMMARIZE_LOCK_TIMEOUT])
            cursor.execute("SELECT brin_summarize_new_values(%s::regclass)", [TRANSACTIONS_BRIN_INDEX])
    except DatabaseError:
        logger.warning("risk: the transactions' new page ranges were not summarized now; autovacuum will",
                       exc_info=True)


# What str.strip() removes that matters in extracts (btrim alone removes spaces only)
_WS = r"E' \t\n\r\f\x0b\u00a0\u3000'"

# The fast path's row checks: the rules of rules.parse_row without regular expressions (they cost
# more than the COPY itself). A row passes only if Python would accept it with the same values; a
# row that Python might accept but these checks do not (an unusual time format, "1.500") merely
# sends the file to the exact path. The casts (amount, time) run on rows that passed, so a bad date
# like 2026-02-30 raises and also sends the file to the exact path. An amount passes only if it is
# the canonical rendering of its own value (digits, at most one point: no sign, exponent, space or
# leading zero; NaN and Infinity fail the range), one cast and one rendering instead of a translate.
_FAST_SELECT = f"""
SELECT %(inst)s, tid, employee_no, m, m::date, direction, a, channel, cid, cname, counterparty_type, mcc, %(now)s
FROM (
  SELECT r.employee_no, r.direction, r.channel, r.counterparty_type,
         btrim(r.txn_id, {_WS}) AS tid, btrim(r.counterparty_id, {_WS}) AS cid,
         coalesce(btrim(r.counterparty_name, {_WS}), '') AS cname, coalesce(r.merchant_category, '') AS mcc,
         r.occurred_at::timestamptz AS m, r.amount::numeric AS a, r.amount AS amount_text
  FROM risk_raw r
  WHERE r.employee_no = ANY(%(employees)s)
    AND r.direction IN ('in', 'out') AND r.channel IN ('transfer', 'cash', 'card')
    AND r.counterparty_type IN ('customer', 'employee', 'company', 'individual', 'merchant')
    AND (r.merchant_category IS NULL
         OR (length(r.merchant_category) = 4 AND translate(r.merchant_category, '0123456789', '') = ''))
    AND CASE WHEN length(r.occurred_at) = 19 AND substr(r.occurred_at, 5, 1) = '-'
             -- the usual "YYYY-MM-DD HH:MM:SS" (or with T): exactly PostgreSQL's own rendering of it, so
             -- no 24:00, no :60 seconds, no other spelling; anything else: the full ISO pattern
             THEN r.occurred_at::timestamp::text = replace(r.occurred_at, 'T', ' ')
                  AND r.occurred_at BETWEEN '1900' AND '3'  -- years 1900-2999: not infinity, not BC
             ELSE r.occurred_at ~ %(moment_pattern)s END
  OFFSET 0
) s
WHERE a::text = amount_text AND a > 0 AND a < 1e14 AND scale(a) <= 2
  AND length(tid) BETWEEN 1 AND 64 AND length(cid) BETWEEN 1 AND 64 AND length(cname) <= 200"""  # noqa: S608 (fixed identifiers; every value is a bound parameter)

_TXN_TARGETS = ("institution_id", "txn_id", "employee_no", "occurred_at", "occurred_on", "direction", "amount",
                "channel", "counterparty_id", "counterparty_name", "counterparty_type", "merchant_category",
                "loaded_at")


def _hold_institution(cursor, institution_id: int) -> None:
    """What the foreign key's check did, once per load instead of once per row: the institution's row
    stays (FOR KEY SHARE) until the load commits (the loaded tables have no database constraint)."""
    cursor.execute("SELECT 1 FROM institutions_institution WHERE id = %s FOR KEY SHARE", [institution_id])
    if cursor.fetchone() is None:
        raise Institution.DoesNotExist


def _fast_load_transactions(institution: Institution, data: bytes, filename: str, user) -> Upload | None:
    """A large CSV of transactions checked and written inside PostgreSQL, in one transaction:

    1. a bare ``COPY`` of the text into a temporary table of text columns (no WAL, no index);
    2. one ``INSERT … SELECT`` into the real table keeping only the rows that pass the checks of
       ``rules.parse_row`` (``_FAST_SELECT``: choices, the employee registry as one hashed array,
       digits, lengths, the time's form) and casting them; the transaction's time zone is UTC+8, so
       one cast reads a time with or without an offset exactly as ``rules.parse_local_datetime`` does;
    3. the inserted count must equal the copied count, else some row failed a check.

    New ``txn_id``s take a plain ``INSERT`` (no speculative insertion); when one is already stored
    (a unique violation, in a savepoint) the statement is run again as ``INSERT … ON CONFLICT DO
    UPDATE`` (the replacing load). The load transaction commits with ``synchronous_commit`` off: a
    crash right after the commit can lose the upload (rows and Upload together, never part of it),
    never make the data inconsistent; the uploader then sees no upload and loads again.

    Any doubt (a row failing a check, a duplicate ``txn_id`` in the file, a cast or COPY error, an
    unusual header) returns None: nothing is stored and the exact Python path reports every bad line
    as usual. Small files always take the Python path (``RISK_FAST_LOAD_MIN_ROWS``)."""
    threshold = int(getattr(settings, "RISK_FAST_LOAD_MIN_ROWS", 20000))
    if (connection.vendor != "postgresql" or Path(filename or "").suffix.lower() not in (".csv", ".txt")
            or data.count(b"\n") < threshold):
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    header = [h.strip() for h in data.split(b"\n", 1)[0].decode("utf-8", "replace").strip().split(",")]
    columns = rules.COLUMNS[Kind.TRANSACTIONS]
    if sorted(header) != sorted(columns):
        return None
    from psycopg2.errors import UniqueViolation

    raw = ", ".join(f"{c} text" for c in columns)
    insert = f"INSERT INTO risk_transaction ({', '.join(_TXN_TARGETS)}) {_FAST_SELECT}"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _TXN_TARGETS if c not in ("institution_id", "txn_id"))
    employees = sorted(Employee.objects.filter(institution=institution).values_list("employee_no", flat=True))
    args = {"inst": institution.pk, "now": timezone.now(), "moment_pattern": _MOMENT_PATTERN,
            "employees": employees}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _hold_institution(cursor, institution.pk)
            cursor.execute("SELECT current_setting('TimeZone'), current_setting('DateStyle')")
            zone, style = cursor.fetchone()
            cursor.execute("SET LOCAL synchronous_commit = off; SET LOCAL work_mem = '64MB'; "
                           "SET LOCAL DateStyle = 'ISO'; SET LOCAL TIME ZONE INTERVAL '+08:00' HOUR TO MINUTE")
            cursor.execute(f"CREATE TEMP TABLE risk_raw ({raw}) ON COMMIT DROP")
            cursor.cursor.copy_expert(f"COPY risk_raw ({', '.join(header)}) FROM STDIN WITH (FORMAT csv, HEADER true)",
                                      io.BytesIO(data))
            rows = cursor.cursor.rowcount
            if rows <= 0:
                raise _Fallback
            try:
                with transaction.atomic():  # a savepoint: a txn_id already stored sends us the replacing way
                    cursor.execute(insert, args)
            except (IntegrityError, UniqueViolation):
                cursor.execute(f"{insert} ON CONFLICT (institution_id, txn_id) DO UPDATE SET {updates}", args)
            if cursor.rowcount != rows:
                raise _Fallback
            cursor.execute("DROP TABLE risk_raw")
            cursor.execute("SELECT set_config('TimeZone', %s, true), set_config('DateStyle', %s, true)", [zone, style])
            return Upload.objects.create(institution=institution, kind=Kind.TRANSACTIONS,
                                         filename=(filename or "")[:200], rows=rows,
                                         uploaded_by=user if getattr(user, "pk", None) else None)
    except Exception:  # a COPY or cast error, or a bad row: the Python path tells exactly what and where
        logger.info("risk: fast load of %s not possible, checking row by row", filename)
        return None


# ISO 8601 as datetime.fromisoformat reads it, narrower (PostgreSQL also takes 24:00 and :60 seconds)
_MOMENT_PATTERN = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?"
                   r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$")


class _Fallback(Exception):
    pass


def store_rows(institution: Institution, kind: str, clean_rows: list[dict], *, filename: str = "",
               user=None) -> Upload:
    """Write validated rows (parse_extract's) in one transaction: COPY and one upsert on PostgreSQL."""
    now = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Two loads of one institution wait for each other: relationships and events have no unique
                # key, and each load's "delete what the file holds again, then insert" would miss the
                # other's rows not yet committed (both files' rows kept: duplicates, false alerts).
                _lock(institution.pk, LOAD_LOCK_NAMESPACE)
                _hold_institution(cursor, institution.pk)
            _copy_rows(institution.pk, kind, clean_rows, now)
        else:
            _bulk_rows(institution.pk, kind, clean_rows, now)
        upload = Upload.objects.create(institution=institution, kind=kind, filename=(filename or "")[:200],
                                       rows=len(clean_rows), uploaded_by=user if getattr(user, "pk", None) else None)
    return upload


_TABLE_COLUMNS = {
    Kind.TRANSACTIONS: ("institution_id", "txn_id", "employee_no", "occurred_at", "occurred_on", "direction", "amount",
                        "channel", "counterparty_id", "counterparty_name", "counterparty_type", "merchant_category",
                        "loaded_at"),
    Kind.RELATIONSHIPS: ("institution_id", "employee_no", "counterparty_id", "relation", "since", "until",
                         "loaded_at"),
    Kind.EVENTS: ("institution_id", "employee_no", "occurred_at", "occurred_on", "action", "target_id", "loaded_at"),
}
_TABLES = {Kind.TRANSACTIONS: "risk_transaction", Kind.RELATIONSHIPS: "risk_relationship", Kind.EVENTS: "risk_event"}
_MATCH = {  # what "the same row" is when a file is loaded again
    Kind.RELATIONSHIPS: ("employee_no", "counterparty_id", "relation", "since"),
    Kind.EVENTS: ("employee_no", "occurred_at", "action", "target_id"),
}


def _values(institution_id: int, kind: str, row: dict, now) -> dict:
    values = {"institution_id": institution_id, "loaded_at": now, **row}
    if "occurred_at" in row:
        values["occurred_on"] = rules.local_date(row["occurred_at"])
    for column in _TABLE_COLUMNS[kind]:
        values.setdefault(column, "" if column in ("merchant_category", "counterparty_name", "target_id") else None)
    return values


def _cell(value):
    if value is None:
        return "\\N"
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _copy_rows(institution_id: int, kind: str, clean_rows: list[dict], now) -> None:
    """COPY the rows. New transactions (no txn_id already stored: the unique constraint tells, in a
    savepoint) and a first load of relationships or events go straight into the table; otherwise
    into a temporary table, then one set-based upsert replaces the stored rows (`ON CONFLICT` for
    transactions; DELETE of the same rows + INSERT for relationships and events)."""
    from psycopg2.errors import UniqueViolation

    columns = _TABLE_COLUMNS[kind]
    table = _TABLES[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    stamp = now.isoformat()
    fields = [c for c in columns if c not in ("institution_id", "occurred_on", "loaded_at")]
    dated = "occurred_on" in columns
    for row in clean_rows:
        line = [institution_id, *(_cell(row.get(c, "")) for c in fields)]
        if dated:
            line.append(rules.local_date(row["occurred_at"]).isoformat())
        line.append(stamp)
        writer.writerow(line)
    order = ["institution_id", *fields, *(["occurred_on"] if dated else []), "loaded_at"]
    column_list = ", ".join(order)
    copy = f"COPY {{}} ({column_list}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    with connection.cursor() as cursor:
        model = {Kind.TRANSACTIONS: Transaction, Kind.RELATIONSHIPS: Relationship, Kind.EVENTS: Event}[kind]
        if kind == Kind.TRANSACTIONS or not model.objects.filter(institution_id=institution_id).exists():
            try:
                with transaction.atomic():  # a savepoint: a txn_id already there sends us the long way
                    buffer.seek(0)
                    cursor.cursor.copy_expert(copy.format(table), buffer)
                    return
            except (IntegrityError, UniqueViolation):
                pass
        buffer.seek(0)
        cursor.execute(f"CREATE TEMP TABLE risk_load ON COMMIT DROP AS SELECT {column_list} FROM {table} "  # noqa: S608
                       "LIMIT 0")
        cursor.cursor.copy_expert(copy.format("risk_load"), buffer)
        if kind == Kind.TRANSACTIONS:
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in order if c not in ("institution_id", "txn_id"))
            cursor.execute(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM risk_load "  # noqa: S608
                           f"ON CONFLICT (institution_id, txn_id) DO UPDATE SET {updates}")
        else:
            match = " AND ".join(f"t.{c} = l.{c}" for c in _MATCH[kind])
            keys = ", ".join(_MATCH[kind])
            cursor.execute(f"DELETE FROM {table} t USING (SELECT DISTINCT {keys} FROM risk_load) l "  # noqa: S608
                           f"WHERE t.institution_id = %s AND {match}", [institution_id])
            cursor.execute(f"INSERT INTO {table} ({column_list}) SELECT {column_list} FROM risk_load")  # noqa: S608
        cursor.execute("DROP TABLE risk_load")


def _bulk_rows(institution_id: int, kind: str, clean_rows: list[dict], now) -> None:
    """The same without COPY (SQLite, development only)."""
    model = {Kind.TRANSACTIONS: Transaction, Kind.RELATIONSHIPS: Relationship, Kind.EVENTS: Event}[kind]
    objects = [model(**_values(institution_id, kind, row, now)) for row in clean_rows]
    if kind == Kind.TRANSACTIONS:
        updates = [c for c in _TABLE_COLUMNS[kind] if c not in ("institution_id", "txn_id")]
        model.objects.bulk_create(objects, batch_size=500, update_conflicts=True,
                                  unique_fields=["institution", "txn_id"], update_fields=updates)
        return
    for row in {tuple(_values(institution_id, kind, r, now)[c] for c in _MATCH[kind]) for r in clean_rows}:
        model.objects.filter(institution_id=institution_id, **dict(zip(_MATCH[kind], row, strict=True))).delete()
    model.objects.bulk_create(objects, batch_size=500)


def purge_expired(now=None) -> int:
    """Delete loaded rows older than RISK_RETENTION_DAYS (the beat job)."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    deleted = 0
    for model in (Transaction, Relationship, Event):
        deleted += model.objects.filter(loaded_at__lt=cutoff).delete()[0]
    return deleted


def retention_days() -> int:
    return max(1, int(getattr(settings, "RISK_RETENTION_DAYS", 365)))


# --- rule settings and suppressions --------------------------------------------------------------

def effective_rules(institution_id: int) -> dict[str, tuple[bool, dict]]:
    """code -> (enabled, full parameters) for the institution."""
    stored = {s.rule: s for s in RuleSetting.objects.filter(institution_id=institution_id)}
    out = {}
    for code in rules.RULES:
        setting = stored.get(code)
        try:
            params = rules.validate_params(code, setting.params if setting else None)
        except ValueError:
            params = rules.RULES[code].defaults()
        out[code] = (setting.enabled if setting else True, params)
    return out


@transaction.atomic
def change_rule(user, institution: Institution, code: str, *, enabled: bool | None = None,
                params: dict | None = None, reason: str = "") -> RuleSetting:
    """Switch a rule on or off or change its parameters, recording who and why."""
    if institution.pk not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以修改规则"))
    if code not in rules.RULES:
        raise NotFound(_("没有规则 {code}").format(code=code))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请说明修改原因"), field="reason")
    setting = RuleSetting.objects.select_for_update().filter(institution=institution, rule=code).first()
    previous = {"enabled": setting.enabled, "params": setting.params} if setting else {
        "enabled": True, "params": rules.RULES[code].defaults()}
    merged = {**(setting.params if setting else {}), **(params or {})}
    try:
        full = rules.validate_params(code, merged)
    except ValueError as exc:
        raise DomainError(str(exc), field="params") from exc
    new_enabled = previous["enabled"] if enabled is None else bool(enabled)
    actor = user if getattr(user, "pk", None) else None
    setting, _created = RuleSetting.objects.update_or_create(
        institution=institution, rule=code,
        defaults={"enabled": new_enabled, "params": full, "changed_by": actor, "reason": reason})
    RuleSettingChange.objects.create(institution=institution, rule=code, enabled=new_enabled, params=full,
                                     previous=previous, changed_by=actor, reason=reason)
    return setting


def suppress(user, institution: Institution, code: str, employee_no: str, *, counterparty_id: str = "",
             period: str = "", reason: str = "") -> Suppression:
    if institution.pk not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以设置屏蔽"))
    if code not in rules.RULES:
        raise DomainError(_("没有规则 {code}").format(code=code), field="rule")
    if not (employee_no or "").strip():
        raise DomainError(_("请填写工号"), field="employee_no")
    if not (reason or "").strip():
        raise DomainError(_("请说明屏蔽原因"), field="reason")
    suppression, created = Suppression.objects.get_or_create(
        institution=institution, rule=code, employee_no=employee_no.strip(),
        counterparty_id=(counterparty_id or "").strip(), period=(period or "").strip(),
        defaults={"reason": reason.strip(), "created_by": user if getattr(user, "pk", None) else None})
    if not created:
        raise StateConflict(_("该屏蔽已存在"))
    return suppression


def delete_suppression(user, suppression: Suppression) -> None:
    if suppression.institution_id not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以取消屏蔽"))
    suppression.delete()


# --- screening ---------------------------------------------------------------------------------------

def request_screening(user, institution: Institution, date_from: dt.date, date_to: dt.date) -> Screening:
    """Create a screening and queue it (Celery when a broker is configured, in process otherwise)."""
    if institution.pk not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以发起筛查"))
    return _queue_screening(institution, date_from, date_to, user)


def screening_unavailable() -> str:
    """Why no screening can run on this installation, or "": the rule library is PostgreSQL's SQL (a
    development or demo installation on SQLite loads extracts but cannot screen them)."""
    if connection.vendor == "postgresql":
        return ""
    return _("风险筛查的规则库需要 PostgreSQL 数据库；当前为 SQLite（开发演示环境），"
             "请设置 DATABASE_URL 指向 PostgreSQL 后再筛查")


def _queue_screening(institution: Institution, date_from: dt.date, date_to: dt.date, user=None) -> Screening:
    if unavailable := screening_unavailable():
        raise Unavailable(unavailable)  # refused before anything is stored (no screening left failed)
    if date_from > date_to:
        raise DomainError(_("起始日期不能晚于截止日期"), field="from")
    if (date_to - date_from).days > 3 * 366:
        raise DomainError(_("筛查区间最长三年"), field="to")
    from core.queue import enqueue_after_commit

    from . import tasks

    screening = Screening.objects.create(institution=institution, date_from=date_from, date_to=date_to,
                                         requested_by=user if getattr(user, "pk", None) else None)
    if tasks.run_screening.app.conf.task_always_eager:
        run_screening(screening.pk)  # no broker: in process, now (also inside a caller's transaction)
    else:
        enqueue_after_commit(tasks.run_screening, screening.pk)
    screening.refresh_from_db()
    return screening


def screen_in_process(institution: Institution, date_from: dt.date, date_to: dt.date) -> Screening:
    """A screening run now in this process (demo data, benchmarks, management commands)."""
    screening = Screening.objects.create(institution=institution, date_from=date_from, date_to=date_to)
    return run_screening(screening.pk)


def _calendar(date_from: dt.date, date_to: dt.date):
    from complaints.selectors import holiday_schedule

    schedule = holiday_schedule(range(date_from.year, date_to.year + 1))
    return schedule.holidays, schedule.workdays


def _schedule_for(day: dt.date):
    from complaints.selectors import holiday_schedule

    return holiday_schedule({day.year, day.year + 1})


def due_date(severity: str, raised_on: dt.date) -> dt.date:
    return add_working_days(raised_on, rules.DUE_WORKING_DAYS[severity], _schedule_for(raised_on)).date


def run_screening(screening_id: int) -> Screening | None:
    """Run every enabled rule of the screening's institution (the Celery task's body). Idempotent: a
    finished screening is left alone; alerts are upserted by key."""
    with transaction.atomic():
        screening = Screening.objects.select_for_update().filter(pk=screening_id).first()
        if screening is None or screening.status in (ScreeningStatus.DONE, ScreeningStatus.FAILED):
            return screening
        screening.status = ScreeningStatus.RUNNING
        screening.started_at = timezone.now()
        screening.alerts_created = screening.alerts_total = 0
        screening.progress = 0
        screening.save(update_fields=["status", "started_at", "alerts_created", "alerts_total", "progress"])
    try:
        if unavailable := screening_unavailable():  # a screening queued elsewhere (the request refuses first)
            raise Unavailable(unavailable)
        settings_now = effective_rules(screening.institution_id)
        enabled = [code for code, (on, _p) in settings_now.items() if on]
        holidays, workdays = _calendar(screening.date_from, screening.date_to)
        for number, code in enumerate(enabled, start=1):
            with transaction.atomic():
                _lock(screening.institution_id)
                created, total = _run_rule(screening, code, settings_now[code][1], holidays, workdays)
                Screening.objects.filter(pk=screening.pk).update(
                    alerts_created=F("alerts_created") + created, alerts_total=F("alerts_total") + total,
                    progress=int(100 * number / len(enabled)))
        with transaction.atomic():
            Screening.objects.filter(pk=screening.pk).update(status=ScreeningStatus.DONE, progress=100,
                                                             rules_run=enabled, finished_at=timezone.now())
            for year in range(screening.date_from.year, screening.date_to.year + 1):
                refresh_summary(screening.institution_id, year)
    except Exception as exc:  # recorded on the screening; the page offers to run it again
        if isinstance(exc, Unavailable):
            logger.warning("risk: screening %s not run: %s", screening_id, exc)
        else:
            logger.exception("risk: screening %s failed", screening_id)
        Screening.objects.filter(pk=screening.pk).update(status=ScreeningStatus.FAILED, error=str(exc)[:2000],
                                                         finished_at=timezone.now())
    screening.refresh_from_db()
    return screening


def _lock(institution_id: int, namespace: int = LOCK_NAMESPACE) -> None:
    """Inside a transaction: one screening (or, with LOAD_LOCK_NAMESPACE, one load) of the institution at a time."""
    locks.hold(namespace, institution_id)


_JSON_OID, _JSON_ARRAY_OID = 114, 199  # PostgreSQL's json and json[] types
# A rule statement's settings (rule_rows): the evidence's times at UTC+8 (Etc/GMT-8 is UTC+8), the
# rows read through a bitmap, room to sort in memory, and no JIT: compiling took 20-25 ms of a
# statement of 140 ms (one institution of 170,000 rows) and saved nothing
_RULE_SETTINGS = {"TimeZone": "Etc/GMT-8", "enable_indexscan": "off", "work_mem": "64MB", "jit": "off"}
_SET_RULE_SETTINGS = f"SELECT {', '.join(f'set_config({name!r}, %s, true)' for name in _RULE_SETTINGS)}"


def rule_rows(code: str, params: dict, institution_id: int, date_from: dt.date, date_to: dt.date,
              holidays=(), workdays=()) -> list[tuple]:
    """The rule's statement over the institution's rows: (employee_no, counterparty_id, period, evidence)."""
    args = rules.sql_arguments(code, params, institution_id=institution_id, date_from=date_from, date_to=date_to,
                               holidays=holidays, workdays=workdays)
    with transaction.atomic(), connection.cursor() as cursor:
        # For this statement only (restored below: SET LOCAL would last to the end of the screening's
        # transaction): the evidence's times rendered at UTC+8 by JSON itself, and the institution's rows
        # read through a bitmap (its pages in order), then sorted in memory; an index scan in an index's
        # order reads them at random (at 10M rows R01 and R04 took 1.7x less; docs/performance.md).
        cursor.execute(f"SELECT {', '.join(f'current_setting({name!r})' for name in _RULE_SETTINGS)}")
        saved = cursor.fetchone()
        cursor.execute(_SET_RULE_SETTINGS, list(_RULE_SETTINGS.values()))
        # the evidence (json) parsed by orjson: json.loads took a fifth of R03's time at 1.7 M items
        psycopg2.extras.register_json(cursor.cursor, loads=orjson.loads, oid=_JSON_OID, array_oid=_JSON_ARRAY_OID)
        cursor.execute(rules.RULES[code].sql, args)
        found = cursor.fetchall()
        cursor.execute(_SET_RULE_SETTINGS, list(saved))
        return found


def _run_rule(screening: Screening, code: str, params: dict, holidays, workdays) -> tuple[int, int]:
    rule = rules.RULES[code]
    found = rule_rows(code, params, screening.institution_id, screening.date_from, screening.date_to,
                      holidays, workdays)
    suppressions = list(Suppression.objects.filter(institution_id=screening.institution_id, rule=code)
                        .values_list("employee_no", "counterparty_id", "period"))

    def suppressed(employee_no, counterparty_id, period) -> bool:
        return any(e == employee_no and c in ("", counterparty_id) and p in ("", period)
                   for e, c, p in suppressions)

    found = [row for row in found if not suppressed(row[0], row[1] or "", row[2])]
    if not found:
        return 0, 0
    existing = {(a.employee_no, a.counterparty_id, a.period): a for a in Alert.objects.filter(
        institution_id=screening.institution_id, rule=code, period__in={row[2] for row in found},
        employee_no__in={row[0] for row in found})}
    today = timezone.localdate()
    due = due_date(rule.severity, today)
    new, changed, seen = [], [], []
    for employee_no, counterparty_id, period, evidence in found:
        evidence = evidence if isinstance(evidence, list) else json.loads(evidence)
        key = (employee_no, counterparty_id or "", period)
        alert = existing.get(key)
        if alert is None:
            new.append(Alert(institution_id=screening.institution_id, rule=code, rule_version=rule.version,
                             params=params, severity=rule.severity, employee_no=employee_no,
                             counterparty_id=counterparty_id or "", period=period, evidence=evidence,
                             raised_on=today, due_on=due, screening=screening, last_screening=screening))
            continue
        merged, added = rules.merge_evidence(alert.evidence, evidence)
        if added:  # new evidence: rewrite this one
            alert.evidence = merged
            alert.last_screening = screening
            changed.append(alert)
        else:
            seen.append(alert.pk)
    if new:
        Alert.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    if changed:
        Alert.objects.bulk_update(changed, ["evidence", "last_screening", "updated_at"], batch_size=500)
    if seen:
        Alert.objects.filter(pk__in=seen).update(last_screening=screening)
    return len(new), len(found)


def screen_previous_month(today: dt.date | None = None) -> int:
    """The monthly beat job: screen last calendar month for every institution with loaded data (none
    where screening cannot run: `screening_unavailable`)."""
    if unavailable := screening_unavailable():
        logger.warning("risk: the monthly screening skipped: %s", unavailable)
        return 0
    today = today or timezone.localdate()
    last = today.replace(day=1) - dt.timedelta(days=1)
    first = last.replace(day=1)
    # One index probe per institution (the unique (institution, txn_id) and the events' btree), not a
    # DISTINCT over every loaded row (10 million in the benchmark)
    with_data = (Exists(Transaction.objects.filter(institution_id=OuterRef("pk")))
                 | Exists(Event.objects.filter(institution_id=OuterRef("pk"))))
    queued = 0
    for institution in Institution.objects.filter(with_data).order_by("pk"):
        if Screening.objects.filter(institution=institution, date_from=first, date_to=last,
                                    status__in=[ScreeningStatus.QUEUED, ScreeningStatus.RUNNING,
                                                ScreeningStatus.DONE]).exists():
            continue
        _queue_screening(institution, first, last)
        queued += 1
    return queued


def reap_stale_screenings(older_than) -> int:
    from core.queue import stale_reason

    return Screening.objects.filter(status__in=[ScreeningStatus.QUEUED, ScreeningStatus.RUNNING],
                                    created_at__lt=older_than).update(
        status=ScreeningStatus.FAILED, error=stale_reason(), finished_at=timezone.now())


# --- alerts ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Transition:
    sources: tuple[str, ...]
    target: str


TRANSITIONS = {
    "review": Transition((AlertStatus.NEW,), AlertStatus.REVIEWING),
    "dismiss": Transition((AlertStatus.REVIEWING,), AlertStatus.DISMISSED),
    "confirm": Transition((AlertStatus.REVIEWING,), AlertStatus.CONFIRMED),
    "escalate": Transition((AlertStatus.CONFIRMED,), AlertStatus.ESCALATED),
}
OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.REVIEWING)


@transaction.atomic
def act(user, alert: Alert, action: str, note: str = "", *, violation_code: str = "") -> Alert:
    """review / dismiss (a note is needed) / confirm (optionally a clean-points deduction) / escalate."""
    if action not in TRANSITIONS:
        raise NotFound(_("没有该操作"))
    if alert.institution_id not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以处理预警"))
    note = (note or "").strip()
    if action == "dismiss" and not note:
        raise DomainError(_("排除预警须说明理由"), field="note")
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    transition = TRANSITIONS[action]
    if alert.status not in transition.sources:
        raise StateConflict(_("预警当前为「{label}」，不能执行该操作").format(label=AlertStatus(alert.status).label))
    actor = user if getattr(user, "pk", None) else None
    now = timezone.now()
    if action == "confirm" and violation_code:
        alert.point_record_id = _record_points(user, alert, violation_code, note).pk
    AlertAction.objects.create(alert=alert, action=action, from_status=alert.status, to_status=transition.target,
                               note=note, actor=actor)
    alert.status = transition.target
    if note:
        alert.note = note
    if action == "review" and alert.assignee_id is None:
        alert.assignee = actor
    if action in ("dismiss", "confirm"):
        alert.reviewed_at = now
    if action == "escalate":
        alert.escalated_at = now
    alert.save()
    refresh_summary(alert.institution_id, alert.year)
    return alert


def _record_points(user, alert: Alert, violation_code: str, note: str):
    from staff_points import services as points
    from staff_points.models import RecordKind, RecordSource

    employee = Employee.objects.filter(institution_id=alert.institution_id, employee_no=alert.employee_no).first()
    if employee is None:
        raise DomainError(_("工号 {employee_no} 不在本机构员工名册中").format(employee_no=alert.employee_no))
    title = rules.RULES[alert.rule].title
    return points.record_points(user, employee, points.RecordInput(  # i18n-exempt: note stored on the record
        date=timezone.localdate(), kind=RecordKind.DEDUCTION, violation_code=violation_code,
        source=RecordSource.EXTERNAL, note=f"风险预警 {alert.rule} {title}（{alert.period}）确认：{note}"[:2000]))


@transaction.atomic
def assign(user, alert: Alert, assignee_id: int | None) -> Alert:
    if alert.institution_id not in actor_institution_ids(user):
        raise NotAllowed(_("只有本机构的填报员或负责人可以分派预警"))
    if alert.status not in OPEN_STATUSES:
        raise StateConflict(_("预警已处理完毕，不能再分派"))
    if assignee_id is not None and not Membership.objects.filter(
            user_id=assignee_id, institution_id=alert.institution_id, role__in=ACTORS).exists():
        raise DomainError(_("核查人须为本机构的填报员或负责人"), field="assignee")
    # Conditional: an alert concluded at the same moment is not assigned any more.
    if not Alert.objects.filter(pk=alert.pk, status__in=OPEN_STATUSES).update(assignee_id=assignee_id,
                                                                              updated_at=timezone.now()):
        raise StateConflict(_("预警已处理完毕，不能再分派"))
    AlertAction.objects.create(  # i18n-exempt: trail note stored on the alert
        alert=alert, action="assign", from_status=alert.status, to_status=alert.status,
                               note=f"分派给用户 {assignee_id}" if assignee_id else "取消分派",
                               actor=user if getattr(user, "pk", None) else None)
    alert.refresh_from_db()
    return alert


@transaction.atomic
def forward(user, alert: Alert, to: str, note: str = "") -> Alert:
    """The finance center forwards an escalated alert on (like a report), e.g. to the discipline commission."""
    if alert.status != AlertStatus.ESCALATED or not access.is_finance_center(user, alert.institution.district_id):
        raise NotFound(_("未找到该预警"))
    to = (to or "").strip()
    if not to:
        raise DomainError(_("请填写转交单位"), field="to")
    # Conditional: of two forwards at once only one finds it not yet forwarded (and still escalated).
    unforwarded = Alert.objects.filter(pk=alert.pk, forwarded_to="", status=AlertStatus.ESCALATED)
    if alert.forwarded_to or not unforwarded.update(forwarded_to=to[:100], updated_at=timezone.now()):
        raise StateConflict(_("该预警已转交"))
    AlertAction.objects.create(  # i18n-exempt: trail note stored on the alert
        alert=alert, action="forward", from_status=alert.status, to_status=alert.status,
                               note=f"转交{to}：{note}".strip("："), actor=user)
    alert.refresh_from_db()
    return alert


def remind_overdue(today: dt.date | None = None) -> int:
    """Mail the institution's filers and heads once a day about its overdue alerts (the beat job)."""
    today = today or timezone.localdate()
    counts = (Alert.objects.filter(status__in=OPEN_STATUSES, due_on__lt=today)
              .values("institution_id").annotate(n=Count("pk")))
    sent = 0
    for row in counts:
        recipients = list(Membership.objects.filter(institution_id=row["institution_id"], role__in=ACTORS)
                          .exclude(user__email="").values_list("user__email", flat=True))
        key = f"risk:overdue:{row['institution_id']}:{today.isoformat()}"
        with transaction.atomic():
            sent += outbox.enqueue(
                key, recipients,
                _("风险预警逾期提醒"), _("本机构有 {n} 条风险预警已超过核查期限，请登录清廉金融平台处理。").format(
                    n=row['n']),
                kind="risk.reminder")
            _remind_by_channels(key, "reminder.alerts_overdue", row["institution_id"],
                                {"count": row["n"], "due": today.isoformat()})
            Alert.objects.filter(institution_id=row["institution_id"], status__in=OPEN_STATUSES,
                                 due_on__lt=today).update(reminded_at=timezone.now())
    return sent


def remind_due_soon(today: dt.date | None = None) -> int:
    """Tell the institution's filers and heads, once per due date, of its open alerts due within
    RISK_REMIND_DAYS_BEFORE days (mail and their channels; the beat job with remind_overdue)."""
    today = today or timezone.localdate()
    before = int(getattr(settings, "RISK_REMIND_DAYS_BEFORE", 2))
    rows = (Alert.objects.filter(status__in=OPEN_STATUSES, due_on__gte=today,
                                 due_on__lte=today + dt.timedelta(days=before))
            .values("institution_id", "due_on").annotate(n=Count("pk")).order_by("institution_id", "due_on"))
    sent = 0
    for row in rows:
        recipients = list(Membership.objects.filter(institution_id=row["institution_id"], role__in=ACTORS)
                          .exclude(user__email="").values_list("user__email", flat=True))
        key = f"risk:due:{row['institution_id']}:{row['due_on'].isoformat()}"
        with transaction.atomic():
            sent += outbox.enqueue(
                key, recipients, _("风险预警核查提醒"),
                _("本机构有 {n} 条风险预警的核查期限为 {due_on:%Y-%m-%d}，请登录清廉金融平台及时核查处理。").format(
                    n=row['n'], due_on=row['due_on']),
                kind="risk.reminder")
            _remind_by_channels(key, "reminder.alerts_due", row["institution_id"],
                                {"count": row["n"], "due": row["due_on"].isoformat()})
    return sent


def _remind_by_channels(key: str, kind: str, institution_id: int, context: dict) -> int:
    """The reminder on the institution's channels (robots, duty phone, mailbox) and its filers' and
    heads' phones (their mail is the caller's). A count and a date only: never an employee's name."""
    from notifications import services as notifications

    institution = Institution.objects.get(pk=institution_id)
    users = [m.user for m in Membership.objects.filter(institution_id=institution_id, role__in=ACTORS,
                                                       user__is_active=True).select_related("user")]
    return notifications.notify(key, kind, {"institution": institution.name, **context}, institutions=[institution],
                                users=users, user_channels=("sms",))


# --- the district's stored figures ---------------------------------------------------------------

def refresh_summary(institution_id: int, year: int, today: dt.date | None = None) -> InstitutionSummary:
    """Recount one institution-year from its alerts (counts only) into InstitutionSummary. An
    alert's year is its period's (the data's year: "2026-03", "2026-04-01", "2026-01-01/…").

    One recount of an institution-year at a time, until the writer's transaction ends: two alerts
    handled at once each counted only its own change, and the last to write the summary lost the
    other's; now the second waits, then counts both."""
    with transaction.atomic():
        locks.hold(SUMMARY_LOCK_NAMESPACE, locks.key_of(f"{institution_id}:{year}"))
        return _refresh_summary(institution_id, year, today or timezone.localdate())


def _refresh_summary(institution_id: int, year: int, today: dt.date) -> InstitutionSummary:
    alerts = Alert.objects.filter(institution_id=institution_id, period__startswith=f"{year:04d}")
    by_rule = {code: 0 for code in rules.RULES}
    by_status = {status: 0 for status in AlertStatus.values}
    for rule, status, n in alerts.values_list("rule", "status").annotate(n=Count("pk")).order_by():
        by_rule[rule] = by_rule.get(rule, 0) + n
        by_status[status] = by_status.get(status, 0) + n
    overdue = alerts.filter(status__in=OPEN_STATUSES, due_on__lt=today).count()
    closed_rows = list(alerts.filter(reviewed_at__isnull=False).values_list("created_at", "reviewed_at"))
    avg = (Decimal(sum((r - c).total_seconds() for c, r in closed_rows) / 86400 / len(closed_rows))
           .quantize(Decimal("0.1")) if closed_rows else None)
    decided = by_status["dismissed"] + by_status["confirmed"] + by_status["escalated"]
    rate = (Decimal(by_status["confirmed"] + by_status["escalated"]) / decided).quantize(Decimal("0.0001")) \
        if decided else None
    summary, _created = InstitutionSummary.objects.update_or_create(
        institution_id=institution_id, year=year,
        defaults={"by_rule": by_rule, "by_status": by_status, "total": sum(by_rule.values()), "overdue": overdue,
                  "closed": decided, "avg_review_days": avg, "confirmed_rate": rate})
    return summary


def refresh_all_summaries(today: dt.date | None = None) -> int:
    """Nightly: recount every institution-year with alerts (overdue figures move with the date)."""
    pairs = {(i, int(p[:4])) for i, p in Alert.objects.values_list("institution_id", "period").distinct()}
    pairs |= set(InstitutionSummary.objects.values_list("institution_id", "year"))
    for institution_id, year in pairs:
        refresh_summary(institution_id, year, today)
    return len(pairs)


__all__ = [
    "LoadRefused", "act", "acting_institution", "actor_institution_ids", "assign", "change_rule",
    "delete_suppression", "due_date", "effective_rules", "forward", "load_extract", "parse_extract",
    "purge_expired", "refresh_all_summaries", "refresh_summary", "remind_due_soon", "remind_overdue",
    "request_screening", "rule_rows", "run_screening", "screen_in_process", "screen_previous_month",
    "screening_unavailable", "store_rows", "suppress",
]
