"""Writes: publishing, the fan-out to employees, reading, acknowledging, reminders.

The fan-out is one set-based statement, INSERT … SELECT … ON CONFLICT DO NOTHING over the
employees in scope: no row travels through Python, and running it again adds only employees
who were not reached yet (so it is idempotent, and also how late joiners get a warning).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from institutions import access
from institutions.errors import NotAllowed
from institutions.models import District, Institution

from . import rules, selectors
from .models import Delivery, Scope, Warning

log = logging.getLogger(__name__)


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
    """Check who may publish where, and resolve the scope's district and institution."""
    institution = None if access.is_finance_center(publisher) else _head_target(publisher, draft)
    errors = rules.scope_errors(draft.scope, draft.category,
                                institution.code if institution else draft.institution_code)
    if errors:
        raise ValidationError(errors)
    if draft.scope == Scope.INSTITUTION:
        if institution is None:
            institution = Institution.objects.select_related("district").filter(code=draft.institution_code).first()
        if institution is None:
            raise ValidationError(
                {"institution_code": _("未知的机构编码：%(code)s") % {"code": draft.institution_code}})
        if draft.district_code and draft.district_code != institution.district.code:
            raise ValidationError({"district": _("该机构不属于所填区县。")})
        return institution.district, institution
    if draft.district_code:
        district = District.objects.filter(code=draft.district_code).first()
        if district is None:
            raise ValidationError({"district": _("未知的行政区划代码：%(code)s") % {"code": draft.district_code}})
        return district, None
    district = selectors.default_district()
    if district is None:
        raise ValidationError({"district": _("系统中有多个区县，请填写 district（行政区划代码）。")})
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
        published_by_head=not access.is_finance_center(publisher),
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
        transaction.on_commit(partial(fan_out_warning.delay, warning.pk))


def fill_issuer(warning: Warning) -> None:
    """For warnings written in the admin (always by the finance center)."""
    if not warning.issuer:
        warning.issuer = rules.issuer_name(
            scope=warning.scope, institution_name=warning.institution.name if warning.institution_id else "",
            district_name=warning.district.name, published_by_head=False)


# --- the fan-out ----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _delivery_foreign_keys() -> tuple[str, ...]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Delivery._meta.db_table)
    return tuple(sorted(name for name, info in constraints.items() if info["foreign_key"]))


def _check_foreign_keys_per_statement() -> None:
    """PostgreSQL: check the deliveries' foreign keys when the INSERT ends instead of at commit.

    Django declares them DEFERRABLE INITIALLY DEFERRED; for a 100,000-row fan-out the queue of
    300,000 deferred checks costs about as much again as the insert itself (docs/warnings.md).
    """
    if connection.vendor != "postgresql" or not _delivery_foreign_keys():
        return
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SET CONSTRAINTS {', '.join(map(qn, _delivery_foreign_keys()))} IMMEDIATE")


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
        total = Delivery.objects.filter(warning_id=warning.pk).count()
        Warning.objects.filter(pk=warning.pk).update(fanned_out_at=Coalesce(F("fanned_out_at"), now),
                                                     recipients=total)
    log.info("warning %s delivered to %s employees (%s new)", warning_id, total, added)
    return added


def publish_due(*, now: datetime | None = None) -> list[int]:
    """Beat job: queue the fan-out of every warning whose publish time has come but is undelivered."""
    from .tasks import fan_out_warning

    ids = list(selectors.due_for_fan_out(now=now).values_list("pk", flat=True)[:500])
    for pk in ids:
        fan_out_warning.delay(pk)
    return ids


# --- reading --------------------------------------------------------------------------------------

def mark_read(user, warning: Warning) -> datetime | None:
    """Opening a warning marks the reader's delivery read (first time only); returns read_at."""
    employee = selectors.employee_of(user)
    if employee is None or getattr(warning, "my_delivery", None) is None:
        return None
    read_at = getattr(warning, "my_read_at", None)
    if read_at is None:
        read_at = timezone.now()
        Delivery.objects.filter(pk=warning.my_delivery, read_at__isnull=True).update(read_at=read_at)
        warning.my_read_at = read_at
    return read_at


def acknowledge(user, warning: Warning) -> Delivery:
    """已阅知悉: record when (the first time; again is a no-op). Implies read."""
    employee = selectors.employee_of(user)
    if employee is None:
        raise NotAllowed(_("只有收到该警示信息的员工可以确认已阅知悉。"))
    now = timezone.now()
    deliveries = Delivery.objects.filter(warning=warning, employee=employee)
    deliveries.filter(acknowledged_at__isnull=True).update(acknowledged_at=now, read_at=Coalesce(F("read_at"), now))
    delivery = deliveries.first()
    if delivery is None:
        raise NotAllowed(_("只有收到该警示信息的员工可以确认已阅知悉。"))
    warning.my_delivery, warning.my_read_at, warning.my_acknowledged_at = (
        delivery.pk, delivery.read_at, delivery.acknowledged_at)
    return delivery


# --- reminders ------------------------------------------------------------------------------------

def _reminder(email: str, name: str, titles: list[str]) -> EmailMessage:
    lines = [_("%(name)s，您好：") % {"name": name}, "",
             _("以下 %(n)d 条警示信息您尚未确认“已阅知悉”，请登录清廉金融管理平台阅读并确认：")
             % {"n": len(titles)}, ""]
    lines += [f"· {title}" for title in titles]
    link = settings.WARNINGS_PORTAL_URL.rstrip("/") + reverse("warnings_feed:feed")
    lines += ["", link, "", _("（本邮件由系统自动发送，请勿回复。）")]
    subject = _("【清廉金融】您有 %(n)d 条警示信息尚未确认知悉") % {"n": len(titles)}
    return EmailMessage(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [email])


def send_reminders(*, now: datetime | None = None, batch: int = 500) -> int:
    """Email each employee who has not acknowledged a warning N days after delivery (one mail per
    employee listing them all); again every N days, at most WARNINGS_MAX_REMINDERS times.
    Titles are masked: a mailbox is not the finance center. Returns the number of mails sent."""
    now = now or timezone.now()
    due = selectors.reminders_due(now=now, after_days=settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS,
                                  max_reminders=settings.WARNINGS_MAX_REMINDERS)
    rows = due.values_list("pk", "employee_id", "employee__name", "employee__user__email", "warning__title",
                           "warning__names")
    sent = 0
    pending: list[tuple[EmailMessage, list[int]]] = []
    current: tuple[int, str, str, list[str], list[int]] | None = None

    def flush() -> None:
        nonlocal sent
        if not pending:
            return
        with get_connection() as mail:
            mail.send_messages([message for message, _ids in pending])
        ids = [pk for _message, pks in pending for pk in pks]
        Delivery.objects.filter(pk__in=ids).update(reminded_at=now, reminders=F("reminders") + 1)
        sent += len(pending)
        pending.clear()

    for pk, employee_id, name, email, title, names in rows.iterator(chunk_size=2000):
        if current is None or current[0] != employee_id:
            if current is not None:
                pending.append((_reminder(current[2], current[1], current[3]), current[4]))
                if len(pending) >= batch:
                    flush()
            current = (employee_id, name, email, [], [])
        current[3].append(rules.shown_text(title, names or (), reveal_names=False))
        current[4].append(pk)
    if current is not None:
        pending.append((_reminder(current[2], current[1], current[3]), current[4]))
    flush()
    return sent
