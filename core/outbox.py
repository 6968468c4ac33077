"""The one mail outbox: every mail the portal sends goes through here.

A caller enqueues a mail inside its own transaction, so the mail exists if and only if the change
it reports committed; `send_pending` (the Celery task `core.send_pending_mail`, beat every minute,
and kicked right after each enqueuing commit) sends what is due through one mail connection per
batch. A failure keeps the mail pending with its attempt counted and its error, to be retried after
a growing delay (MAIL_OUTBOX_RETRY_SECONDS, doubled per attempt, at most six hours), until
MAIL_OUTBOX_MAX_ATTEMPTS failed attempts mark it failed (the admin's "retry now" gives it another).

Delivery is at least once: a mail the server accepted just before the sender's process died is
sent again by the next run. Each mail's key makes enqueuing idempotent, so callers may run twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, Subquery
from django.utils import timezone

from .models import OutgoingMail

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
BATCH = 100
KEY_LENGTH = OutgoingMail._meta.get_field("key").max_length


@dataclass(frozen=True)
class Mail:
    """A mail to enqueue. `key` names it for good (e.g. "complaints:notification:42"): a mail whose
    key is already in the outbox, in any state, is not stored again. `kind` says which app and
    purpose enqueued it ("warnings_feed.reminder"), for the admin and the figures."""

    key: str
    recipients: Sequence[str]
    subject: str
    body: str
    kind: str


def enqueue(key: str, recipients: Sequence[str], subject: str, body: str, *, kind: str) -> int:
    """Put one mail in the outbox, in the caller's transaction. Returns 1 when it was stored, 0 when
    its key was already there or it has nobody to go to (then nothing is stored)."""
    return enqueue_many([Mail(key=key, recipients=recipients, subject=subject, body=body, kind=kind)])


def enqueue_many(mails: Iterable[Mail]) -> int:
    """Put several mails in the outbox at once (one INSERT), in the caller's transaction; mails whose
    key is already there, or that have no recipient, are skipped. Returns how many were stored.

    After the caller's transaction commits, a send is kicked (through the broker, or in process
    when Celery runs eagerly); nothing is ever sent inside the caller's transaction.
    """
    now = timezone.now()
    rows: dict[str, OutgoingMail] = {}
    for mail in mails:
        recipients = sorted({address.strip() for address in mail.recipients if address and address.strip()})
        if not recipients or mail.key in rows:
            continue
        if not mail.subject.strip():
            raise ValueError(f"outbox: mail {mail.key!r} has no subject")
        if not mail.key or len(mail.key) > KEY_LENGTH:
            raise ValueError(f"outbox: a mail's key must have 1 to {KEY_LENGTH} characters: {mail.key!r}")
        rows[mail.key] = OutgoingMail(key=mail.key, kind=mail.kind, recipients=recipients, subject=mail.subject,
                                      body=mail.body, created_at=now, not_before=now)
    if not rows:
        return 0
    existing = set(OutgoingMail.objects.filter(key__in=list(rows)).values_list("key", flat=True))
    new = [row for key, row in rows.items() if key not in existing]
    # ignore_conflicts: a concurrent caller may enqueue the same key; the unique key keeps one.
    OutgoingMail.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    if new:
        transaction.on_commit(kick)
    return len(new)


def kick() -> None:
    """Ask for a send now (run on commit). Never raises: with the broker down the mails wait for
    the beat job's run."""
    from . import queue, tasks

    try:
        # No QueuedTask row: the outbox itself is durable and beat sends what waits.
        queue.publish_now(tasks.send_pending_mail, (), {})
    except Exception as exc:  # the broker is unreachable, or an eager send failed: the outbox keeps all
        logger.warning("outbox: could not queue a send (%s); the mails wait for the next run", exc)


def backoff(attempts: int) -> timedelta:
    """How long a mail waits after its `attempts`-th failed attempt."""
    first = timedelta(seconds=settings.MAIL_OUTBOX_RETRY_SECONDS)
    return min(first * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def send_pending(limit: int = 1000, *, batch: int = BATCH, now: datetime | None = None) -> int:
    """Send the mails that are due, at most `limit`, in batches of `batch` (each its own transaction
    and mail connection). Concurrent senders skip each other's rows (SKIP LOCKED), so no mail goes
    twice. Stops early when a whole batch failed (the mail server is down). Returns how many were sent."""
    sent = 0
    done = 0
    while done < limit:
        size = min(batch, limit - done)
        processed, ok = _send_batch(size, now or timezone.now())
        sent += ok
        done += processed
        if processed < size or (processed and not ok):
            break
    return sent


def _send_batch(size: int, now: datetime) -> tuple[int, int]:
    with transaction.atomic():
        mails = list(OutgoingMail.objects.select_for_update(skip_locked=True)
                     .filter(status=OutgoingMail.Status.PENDING, not_before__lte=now)
                     .order_by("not_before", "id")[:size])
        if not mails:
            return 0, 0
        errors = _deliver(mails)
        finished = timezone.now()
        maximum = settings.MAIL_OUTBOX_MAX_ATTEMPTS
        for mail in mails:
            mail.attempts += 1
            error = errors.get(mail.pk)
            if error is None:
                mail.status, mail.sent_at, mail.last_error = OutgoingMail.Status.SENT, finished, ""
                continue
            mail.last_error = error
            if mail.attempts >= maximum:
                mail.status = OutgoingMail.Status.FAILED
                logger.error("outbox: %s mail %s failed %d times, given up: %s", mail.kind, mail.pk,
                             mail.attempts, error)
            else:
                mail.not_before = finished + backoff(mail.attempts)
                logger.warning("outbox: %s mail %s failed (attempt %d, retried after %s): %s", mail.kind, mail.pk,
                               mail.attempts, mail.not_before, error)
        OutgoingMail.objects.bulk_update(mails, ["status", "sent_at", "attempts", "last_error", "not_before"])
    return len(mails), len(mails) - len(errors)


def _deliver(mails: list[OutgoingMail]) -> dict[int, str]:
    """Send each mail through one connection; returns the errors by mail id (none: all sent)."""
    connection = get_connection()
    try:
        connection.open()
    except Exception as exc:  # no connection at all: every mail of the batch failed
        return {mail.pk: _describe(exc) for mail in mails}
    errors: dict[int, str] = {}
    try:
        for mail in mails:
            message = EmailMessage(mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, mail.recipients)
            try:
                connection.send_messages([message])
            except Exception as exc:  # this mail failed; the connection may still carry the others
                errors[mail.pk] = _describe(exc)
    finally:
        try:
            connection.close()
        except Exception as exc:  # what was sent is sent
            logger.warning("outbox: closing the mail connection failed: %s", exc)
    return errors


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


def retry_now(queryset) -> int:
    """Make the given pending or failed mails due now (a failed one gets one more attempt); kick a
    send after the commit. Returns how many."""
    with transaction.atomic():
        count = (queryset.exclude(status=OutgoingMail.Status.SENT)
                 .update(status=OutgoingMail.Status.PENDING, not_before=timezone.now()))
        if count:
            transaction.on_commit(kick)
    return count


def counts() -> dict[tuple[str, str], int]:
    """The outbox's figures: how many mails per (kind, status)."""
    rows = OutgoingMail.objects.order_by().values("kind", "status").annotate(n=Count("id"))
    return {(row["kind"], row["status"]): row["n"] for row in rows}


def mail_column(key, field: str) -> Subquery:
    """A subquery reading `field` ("status", "sent_at", "attempts", ...) of the mail whose key is the
    expression `key` (built with OuterRef), so that another app's rows show their mail's state."""
    return Subquery(OutgoingMail.objects.filter(key=key).values(field)[:1])


def status_label(status: str | None) -> str:
    return OutgoingMail.Status(status).label if status else ""
