"""Writes: publishing, the fan-out to employees, reading, acknowledging, reminders.

The fan-out is one set-based statement, INSERT … SELECT … ON CONFLICT DO NOTHING over the
employees in scope: no row travels through Python, and running it again adds only employees
who were not reached yet (so it is idempotent, and also how late joiners get a warning).

Every write to deliveries keeps the per-(warning, institution) tallies exact in its own transaction
(the dashboards read them instead of the deliveries): the fan-out recomputes its warning's tallies,
reading and acknowledging add 1 with UPDATE … SET n = n + 1, and rebuild_tallies recomputes them
from the deliveries (after bulk work, and nightly for what cascades from deleted employees).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core import outbox
from core.bulk import foreign_key_checks
from core.errors import DomainError, NotAllowed, NotFound
from core.queue import enqueue_after_commit
from core.queue import publish as publish_task
from institutions import access
from institutions.models import District, Institution

from . import rules, selectors
from .models import Delivery, DeliveryTally, Scope, Warning

log = logging.getLogger(__name__)

T = TypeVar("T")


# --- publishing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    case_type: str
    severity: str
    scope: str
    category: str = ""
    institution_code: str = ""
    district_code: str = ""
    is_public: bool = False
    names: Sequence[str] = ()
    publish_at: datetime | None = None


def _head_target(publisher, draft: Draft) -> Institution | None:
    """The institution a head publishes to; refused (403) unless it is one they head. The refusal is
    the same whether another institution exists or not."""
    heads = selectors.head_institution_ids(publisher)
    institution = None
    if heads and draft.scope == Scope.INSTITUTION:
        if not draft.institution_code and len(heads) > 1:
            raise ValidationError({"institution_code": _("您负责多个机构，请填写机构编码。")})
        institutions = Institution.objects.select_related("district").filter(pk__in=heads)
        if draft.institution_code:
            institutions = institutions.filter(code=draft.institution_code)
        institution = institutions.first()  # a head of one institution need not name it
    refusal = rules.publish_refusal(is_finance_center=False, head_of=heads, scope=draft.scope,
                                    institution_id=institution.pk if institution else None)
    if refusal:
        raise NotAllowed(refusal)
    return institution


def _target(publisher, draft: Draft) -> tuple[District, Institution | None]:
    """Check who may publish where, and resolve the scope's district and institution.

    The finance center publishes in its own districts only: another district, or an institution of
    one, is refused with the same words as an unknown code (nothing says whether it exists)."""
    finance = selectors.finance_district_ids(publisher)  # None: every district (the administrator)
    institution = None if finance is None or finance else _head_target(publisher, draft)
    errors = rules.scope_errors(draft.scope, draft.category,
                                institution.code if institution else draft.institution_code)
    if errors:
        raise ValidationError(errors)
    if draft.scope == Scope.INSTITUTION:
        if institution is None:
            candidates = Institution.objects.select_related("district").filter(code=draft.institution_code)
            if finance is not None:
                candidates = candidates.filter(district_id__in=finance)
            institution = candidates.first()
        if institution is None:
            raise ValidationError(
                {"institution_code": _("未知的机构编码：%(code)s") % {"code": draft.institution_code}})
        if draft.district_code and draft.district_code != institution.district.code:
            raise ValidationError({"district": _("该机构不属于所填区县。")})
        return institution.district, institution
    try:
        district = selectors.publishing_district(publisher, draft.district_code)
    except NotFound:
        raise ValidationError({"district": _("未知的行政区划代码：%(code)s") % {"code": draft.district_code}})
    except DomainError as several:  # several districts and none named: the message lists them
        raise ValidationError({"district": str(several)})
    return district, None


@transaction.atomic
def publish(publisher, draft: Draft) -> Warning:
    """Create a warning and, once committed, deliver it (now, or by the beat job when scheduled)."""
    district, institution = _target(publisher, draft)
    names = [n.strip() for n in draft.names if n and n.strip()]
    warning = Warning(
        title=draft.title.strip(), body=draft.body.strip(), case_type=draft.case_type, severity=draft.severity,
        scope=draft.scope, district=district, category=draft.category if draft.scope == Scope.CATEGORY else "",
        institution=institution, names=names, is_public=draft.is_public, publisher=publisher,
        publish_at=draft.publish_at or timezone.now(),
    )
    warning.issuer = rules.issuer_name(
        scope=warning.scope, institution_name=institution.name if institution else "", district_name=district.name,
        published_by_head=not access.is_finance_center(publisher, district),
    )
    warning.full_clean()
    warning.save()
    schedule_fan_out(warning)
    log.info("warning %s published by %s (scope %s)", warning.pk, publisher, warning.scope)
    return warning


def schedule_fan_out(warning: Warning) -> None:
    """Deliver after commit when due; a scheduled warning is left to the beat job (publish_due)."""
    from .tasks import fan_out_warning

    if rules.is_due(warning.publish_at, timezone.now()):
        enqueue_after_commit(fan_out_warning, warning.pk)


def fill_issuer(warning: Warning) -> None:
    """For warnings written in the admin (always by the finance center)."""
    if not warning.issuer:
        warning.issuer = rules.issuer_name(
            scope=warning.scope, institution_name=warning.institution.name if warning.institution_id else "",
            district_name=warning.district.name, published_by_head=False)


# --- the fan-out ----------------------------------------------------------------------------------

def _check_foreign_keys_per_statement() -> None:
    """PostgreSQL: check the deliveries' foreign keys when the INSERT ends instead of at commit.

    Django declares them DEFERRABLE INITIALLY DEFERRED; for a 100,000-row fan-out the queue of
    300,000 deferred checks costs about as much again as the insert itself (docs/warnings.md).
    """
    with connection.cursor() as cursor:
        foreign_key_checks(cursor, Delivery, immediate=True)


def _insert_deliveries(warning: Warning, now: datetime) -> int:
    employees = selectors.recipients(warning).values("id", "institution_id")
    select_sql, params = employees.query.sql_with_params()
    qn = connection.ops.quote_name
    columns = ", ".join(qn(Delivery._meta.get_field(f).column)
                        for f in ("warning", "employee", "institution", "delivered_at", "reminders"))
    conflict = ", ".join(qn(Delivery._meta.get_field(f).column) for f in ("warning", "employee"))
    # `WHERE 1 = 1` lets SQLite tell the upsert's ON CONFLICT from a join's ON. Every name is quoted
    # from the model's metadata and every value is a parameter.
    sql = (f"INSERT INTO {qn(Delivery._meta.db_table)} ({columns}) "  # noqa: S608
           f"SELECT %s, r.id, r.institution_id, %s, 0 FROM ({select_sql}) r WHERE 1 = 1 "
           f"ON CONFLICT ({conflict}) DO NOTHING")
    with connection.cursor() as cursor:
        cursor.execute(sql, [warning.pk, connection.ops.adapt_datetimefield_value(now), *params])
        return max(cursor.rowcount, 0)


def fan_out(warning_id: int, *, now: datetime | None = None) -> int:
    """Deliver a due warning to every employee in scope; returns how many deliveries were added.

    Idempotent: the unique (warning, employee) constraint makes a second run add nothing, and the
    row lock on the warning keeps two workers from doing the same work at once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        warning = Warning.objects.select_for_update().filter(pk=warning_id).first()
        if warning is None or not rules.is_due(warning.publish_at, now):
            return 0
        _check_foreign_keys_per_statement()
        added = _insert_deliveries(warning, now)
        rebuild_tallies([warning.pk])
        total = Delivery.objects.filter(warning_id=warning.pk).count()
        Warning.objects.filter(pk=warning.pk).update(fanned_out_at=Coalesce(F("fanned_out_at"), now),
                                                     recipients=total)
    log.info("warning %s delivered to %s employees (%s new)", warning_id, total, added)
    return added


def publish_due(*, now: datetime | None = None) -> list[int]:
    """Beat job: queue the fan-out of every warning whose publish time has come but is undelivered."""
    from .tasks import fan_out_warning

    ids = list(selectors.due_for_fan_out(now=now).values_list("pk", flat=True)[:500])
    for pk in ids:  # a beat job, outside any request's transaction: published now
        publish_task(fan_out_warning, [pk])
    return ids


# --- tallies --------------------------------------------------------------------------------------

TALLY_COUNTS = ("delivered", "read", "acknowledged", "acknowledged_on_time")


def _tally_counts() -> dict:
    """The deliveries' counts per tally, in TALLY_COUNTS order (on time: rules.acknowledged_on_time, in SQL)."""
    within = timedelta(days=settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS)
    return {
        "n_delivered": Count("id"),
        "n_read": Count("id", filter=Q(read_at__isnull=False)),
        "n_acknowledged": Count("id", filter=Q(acknowledged_at__isnull=False)),
        "n_on_time": Count("id", filter=Q(acknowledged_at__lte=F("delivered_at") + within)),
    }


def _lock_for_rebuild(warning_ids: list[int] | None) -> None:
    """PostgreSQL: take the locks that keep a recount exact while deliveries are read and acknowledged.

    Under READ COMMITTED each statement reads what was committed when it started, so the recount
    must start only once no addition to the tallies it rewrites is in flight, and none may land
    until it commits. For all warnings, the table in SHARE ROW EXCLUSIVE mode: it waits for every
    transaction that has written a tally and holds back new writers (readers go on). For some
    warnings, ROW EXCLUSIVE on the table (so a recount of all waits, and this one never waits for
    it while holding rows), the warnings' rows (FOR NO KEY UPDATE: deliveries' foreign-key checks
    still pass), which serializes it with the fan-out and other recounts of them, and then their
    tallies' rows. Reading and acknowledging lock a delivery, then a tally: never the other way.
    """
    if connection.vendor != "postgresql":
        return  # SQLite writes one transaction at a time
    table = connection.ops.quote_name(DeliveryTally._meta.db_table)
    with connection.cursor() as cursor:
        if warning_ids is None:
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
            return
        cursor.execute(f"LOCK TABLE {table} IN ROW EXCLUSIVE MODE")
        for rows in (Warning.objects.filter(pk__in=warning_ids).order_by("pk").select_for_update(no_key=True),
                     DeliveryTally.objects.filter(warning_id__in=warning_ids).order_by("pk").select_for_update()):
            sql, params = rows.values("pk").query.sql_with_params()
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) locked", params)  # noqa: S608


def rebuild_tallies(warning_ids: Iterable[int] | None = None) -> int:
    """Recount the tallies of these warnings (all when None) from their deliveries, set-based.

    One grouped INSERT … SELECT … ON CONFLICT DO UPDATE (rows already right are left alone), then
    one DELETE of tallies with no delivery left, in one transaction; PostgreSQL and SQLite alike.
    Returns how many tallies were added, corrected or removed (0 when they were all exact).
    """
    ids = None if warning_ids is None else sorted({int(pk) for pk in warning_ids})
    if ids == []:
        return 0
    deliveries = Delivery.objects.order_by()
    tallies = DeliveryTally.objects.all()
    if ids is not None:
        deliveries, tallies = deliveries.filter(warning_id__in=ids), tallies.filter(warning_id__in=ids)
    counted = _tally_counts()
    select_sql, params = deliveries.values("warning_id", "institution_id").annotate(**counted).query.sql_with_params()
    qn = connection.ops.quote_name
    table = qn(DeliveryTally._meta.db_table)
    key = [qn(DeliveryTally._meta.get_field(f).column) for f in ("warning", "institution")]
    counts = [qn(DeliveryTally._meta.get_field(f).column) for f in TALLY_COUNTS]
    # `WHERE 1 = 1` lets SQLite tell the upsert's ON CONFLICT from a join's ON. Every name is quoted
    # from the model's metadata and every value is a parameter.
    sql = (f"INSERT INTO {table} ({', '.join(key + counts)}) "  # noqa: S608
           f"SELECT g.warning_id, g.institution_id, {', '.join(f'g.{alias}' for alias in counted)} "
           f"FROM ({select_sql}) g WHERE 1 = 1 "
           f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in counts)} "
           f"WHERE {' OR '.join(f'{table}.{c} <> excluded.{c}' for c in counts)}")
    with transaction.atomic():
        _lock_for_rebuild(ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            written = max(cursor.rowcount, 0)
        left = Delivery.objects.filter(warning_id=OuterRef("warning_id"), institution_id=OuterRef("institution_id"))
        removed, _per_model = tallies.filter(~Exists(left)).delete()
    return written + removed


class _TallyMissing(Exception):
    """The tally to add to has no row (yet): rebuild the warning's tallies, then write again."""


def _add_to_tally(warning_id: int, institution_id, *, heal: bool, **add: int) -> None:
    """UPDATE … SET n = n + k on one tally: concurrent transactions queue on its row lock and each
    adds to what the one before committed, so no reading or acknowledgement is lost."""
    changes = {field: F(field) + k for field, k in add.items() if k}
    if not changes or DeliveryTally.objects.filter(warning_id=warning_id,
                                                   institution_id=institution_id).update(**changes):
        return
    if not heal:
        raise _TallyMissing
    rebuild_tallies([warning_id])  # also counts this transaction's own change of the delivery


def _keeping_tally(warning_id: int, write: Callable[[bool], T]) -> T:
    """Run `write(heal)` (one delivery's change and the addition to its tally) in one transaction.

    Should the tally row be missing, that change is rolled back first, so that the rebuild (which
    locks the warning) never waits while holding the delivery's row lock; then the write runs once
    more, with a tally to add to (or, should there still be none, rebuilding in its transaction).
    """
    try:
        with transaction.atomic():
            return write(False)
    except _TallyMissing:
        log.warning("warning %s: a delivery tally was missing; rebuilding the warning's tallies", warning_id)
    rebuild_tallies([warning_id])
    with transaction.atomic():
        return write(True)


# --- reading --------------------------------------------------------------------------------------

def mark_read(user, warning: Warning) -> datetime | None:
    """Opening a warning marks the reader's delivery read (first time only); returns read_at."""
    employee = selectors.employee_of(user)
    if employee is None or getattr(warning, "my_delivery", None) is None:
        return None
    read_at = getattr(warning, "my_read_at", None)
    if read_at is None:
        read_at = timezone.now()

        def write(heal: bool) -> None:
            # The row lock lets exactly one of concurrent first readings change the row, and count it.
            if Delivery.objects.filter(pk=warning.my_delivery, read_at__isnull=True).update(read_at=read_at):
                institution = Subquery(Delivery.objects.filter(pk=warning.my_delivery).values("institution_id"))
                _add_to_tally(warning.pk, institution, heal=heal, read=1)

        _keeping_tally(warning.pk, write)
        warning.my_read_at = read_at
    return read_at


def acknowledge(user, warning: Warning) -> Delivery:
    """已阅知悉: record when (the first time; again is a no-op). Implies read."""
    employee = selectors.employee_of(user)
    if employee is None:
        raise NotAllowed(_("只有收到该警示信息的员工可以确认已阅知悉。"))
    now = timezone.now()

    def write(heal: bool) -> Delivery | None:
        # Locked, so its read and acknowledgement times are the ones this change replaces.
        delivery = Delivery.objects.select_for_update().filter(warning=warning, employee=employee).first()
        if delivery is None or delivery.acknowledged_at is not None:
            return delivery
        newly_read = delivery.read_at is None
        delivery.read_at, delivery.acknowledged_at = delivery.read_at or now, now
        Delivery.objects.filter(pk=delivery.pk).update(read_at=delivery.read_at, acknowledged_at=now)
        on_time = rules.acknowledged_on_time(delivery.delivered_at, now, settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS)
        _add_to_tally(warning.pk, delivery.institution_id, heal=heal, read=int(newly_read), acknowledged=1,
                      acknowledged_on_time=int(on_time))
        return delivery

    delivery = _keeping_tally(warning.pk, write)
    if delivery is None:
        raise NotAllowed(_("只有收到该警示信息的员工可以确认已阅知悉。"))
    warning.my_delivery, warning.my_read_at, warning.my_acknowledged_at = (
        delivery.pk, delivery.read_at, delivery.acknowledged_at)
    return delivery


# --- reminders ------------------------------------------------------------------------------------

def _reminder(name: str, titles: list[str]) -> tuple[str, str]:
    lines = [_("%(name)s，您好：") % {"name": name}, "",
             _("以下 %(n)d 条警示信息您尚未确认“已阅知悉”，请登录清廉金融管理平台阅读并确认：")
             % {"n": len(titles)}, ""]
    lines += [f"· {title}" for title in titles]
    link = settings.WARNINGS_PORTAL_URL.rstrip("/") + reverse("warnings_feed:feed")
    lines += ["", link, "", _("（本邮件由系统自动发送，请勿回复。）")]
    subject = _("【清廉金融】您有 %(n)d 条警示信息尚未确认知悉") % {"n": len(titles)}
    return subject, "\n".join(lines)


def _reminder_key(employee_id: int, rounds: list[tuple[int, int]]) -> str:
    """One key per employee and reminder round: the deliveries it covers and how often each was
    reminded before, so the same reminder is never enqueued twice."""
    digest = hashlib.sha256(",".join(f"{pk}:{n}" for pk, n in sorted(rounds)).encode()).hexdigest()[:24]
    return f"warnings_feed:reminder:{employee_id}:{digest}"


def send_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Remind each employee who has not acknowledged a warning N days after delivery (one mail per
    employee listing them all); again every N days, at most WARNINGS_MAX_REMINDERS times.
    Titles are masked: a mailbox is not the finance center.

    The mails go into core's outbox in the same transaction that counts the reminders on the
    deliveries (`batch` employees per transaction, their deliveries locked; rows a concurrent run
    holds are skipped), so a reminder is counted if and only if its mail will go. Returns the number
    of mails enqueued."""
    now = now or timezone.now()
    due = selectors.reminders_due(now=now, after_days=settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS,
                                  max_reminders=settings.WARNINGS_MAX_REMINDERS)
    queued = 0
    after = 0
    while True:
        employees = list(due.filter(employee_id__gt=after).order_by("employee_id")
                         .values_list("employee_id", flat=True).distinct()[:batch])
        if not employees:
            return queued
        after = employees[-1]
        with transaction.atomic():
            rows = list(due.filter(employee_id__in=employees).select_for_update(skip_locked=True, of=("self",))
                        .values_list("pk", "reminders", "employee_id", "employee__name", "employee__user__email",
                                     "warning__title", "warning__names", "warning_id"))
            mails: list[outbox.Mail] = []
            titles = selectors.masked_titles({row[7] for row in rows})  # the registry's names masked too
            for employee_id, group in groupby(rows, key=itemgetter(2)):
                group = list(group)
                name, email = group[0][3], group[0][4]
                subject, body = _reminder(name, [titles[row[7]] for row in group])
                mails.append(outbox.Mail(key=_reminder_key(employee_id, [(row[0], row[1]) for row in group]),
                                         recipients=[email], subject=subject, body=body,
                                         kind="warnings_feed.reminder"))
            queued += outbox.enqueue_many(mails)
            Delivery.objects.filter(pk__in=[row[0] for row in rows]).update(reminded_at=now,
                                                                            reminders=F("reminders") + 1)
