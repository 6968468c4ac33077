"""core's mail outbox: idempotent enqueuing in the caller's transaction, sending with retries and
backoff, failure after the maximum attempts, concurrent senders, the superuser's admin, and every
mail of the portal (complaints, warning reminders, scoring reminders) arriving through it."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.mail.backends import locmem
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from core import outbox, tasks
from core.models import OutgoingMail
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def enqueue(key="test:1", recipients=("a@example.invalid",), subject="主题", body="正文", kind="tests.mail"):
    return outbox.enqueue(key, list(recipients), subject, body, kind=kind)


class BrokenServer(locmem.EmailBackend):
    """A mail server that cannot be reached."""

    def open(self):
        raise ConnectionRefusedError("smtp unreachable")


class PickyServer(locmem.EmailBackend):
    """Refuses mail to one address, takes the rest."""

    def send_messages(self, messages):
        if any("refused@example.invalid" in message.to for message in messages):
            raise OSError("550 mailbox unavailable")
        return super().send_messages(messages)


# --- enqueuing ---------------------------------------------------------------------------------


def test_enqueue_is_idempotent_by_key():
    assert enqueue("test:1") == 1
    assert enqueue("test:1", subject="另一个主题") == 0  # the same key: a no-op, whatever the content
    assert enqueue("test:2") == 1
    stored = OutgoingMail.objects.get(key="test:1")
    assert stored.subject == "主题" and stored.status == "pending" and stored.attempts == 0
    assert stored.kind == "tests.mail" and stored.recipients == ["a@example.invalid"]
    assert OutgoingMail.objects.count() == 2
    # Several at once, repeating keys within the call and with the outbox: one row each.
    mails = [outbox.Mail(key=f"test:{n}", recipients=["b@example.invalid"], subject="s", body="b", kind="tests.mail")
             for n in (2, 3, 3, 4)]
    assert outbox.enqueue_many(mails) == 2
    assert sorted(OutgoingMail.objects.values_list("key", flat=True)) == ["test:1", "test:2", "test:3", "test:4"]


def test_nobody_to_tell_stores_nothing_and_a_subject_is_required():
    assert enqueue("test:nobody", recipients=["", "  "]) == 0
    assert not OutgoingMail.objects.exists()
    with pytest.raises(ValueError):
        enqueue("test:blank", subject=" ")
    with pytest.raises(ValueError):
        enqueue("x" * 400)


@pytest.mark.django_db(transaction=True)
def test_a_mail_exists_iff_the_callers_transaction_committed_and_goes_only_after_it():
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        enqueue("test:rolled-back")
        raise Refused
    assert not OutgoingMail.objects.exists() and not mail.outbox

    with transaction.atomic():
        enqueue("test:committed")
        # Celery runs eagerly here: still nothing is sent inside the caller's transaction.
        assert not mail.outbox
        assert OutgoingMail.objects.get().status == "pending"
    # The commit kicked a send.
    assert [m.subject for m in mail.outbox] == ["主题"]
    assert OutgoingMail.objects.get().status == "sent"


def test_enqueue_kicks_one_send_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue("test:1")
    assert callbacks == [outbox.kick] and not mail.outbox
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue("test:1")  # already there: nothing to kick
    assert callbacks == []


def test_a_broker_outage_on_the_kick_loses_nothing(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_pending_mail, "apply_async", broken)
    enqueue("test:1")
    outbox.kick()  # logged, not raised
    assert OutgoingMail.objects.get().status == "pending"
    assert tasks.send_pending_mail() == 1  # the beat job's run


# --- sending -------------------------------------------------------------------------------------


def test_pending_mails_go_out_through_one_connection_and_once(monkeypatch):
    opened = []
    real = outbox.get_connection

    def counting(*args, **kwargs):
        connection = real(*args, **kwargs)
        opened.append(connection)
        return connection

    monkeypatch.setattr(outbox, "get_connection", counting)
    for n in range(3):
        enqueue(f"test:{n}", recipients=[f"r{n}@example.invalid", "cc@example.invalid"], subject=f"第{n}封")
    assert outbox.send_pending() == 3
    assert len(opened) == 1
    assert sorted(m.subject for m in mail.outbox) == ["第0封", "第1封", "第2封"]
    assert mail.outbox[0].to == ["cc@example.invalid", "r0@example.invalid"]
    assert set(OutgoingMail.objects.values_list("status", "attempts", "last_error")) == {("sent", 1, "")}
    assert not OutgoingMail.objects.filter(sent_at__isnull=True).exists()
    assert outbox.send_pending() == 0 and len(mail.outbox) == 3  # idempotent


def test_a_failing_connection_keeps_the_mail_for_a_later_run(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenServer"
    settings.MAIL_OUTBOX_RETRY_SECONDS = 60
    enqueue("test:1")
    before = timezone.now()
    assert outbox.send_pending() == 0 and not mail.outbox
    waiting = OutgoingMail.objects.get()
    assert waiting.status == "pending" and waiting.attempts == 1 and waiting.sent_at is None
    assert "ConnectionRefusedError" in waiting.last_error and "smtp unreachable" in waiting.last_error
    assert waiting.not_before >= before + timedelta(seconds=60)
    assert outbox.send_pending() == 0 and OutgoingMail.objects.get().attempts == 1  # backing off: not tried

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.send_pending(now=waiting.not_before) == 1
    sent = OutgoingMail.objects.get()
    assert sent.status == "sent" and sent.attempts == 2 and sent.last_error == "" and sent.sent_at
    assert [m.to for m in mail.outbox] == [["a@example.invalid"]]


def test_one_refused_mail_does_not_hold_back_the_others(settings):
    settings.EMAIL_BACKEND = f"{__name__}.PickyServer"
    enqueue("test:ok-1", recipients=["ok1@example.invalid"])
    enqueue("test:refused", recipients=["refused@example.invalid"])
    enqueue("test:ok-2", recipients=["ok2@example.invalid"])
    assert outbox.send_pending() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ok1@example.invalid", "ok2@example.invalid"]
    refused = OutgoingMail.objects.get(key="test:refused")
    assert refused.status == "pending" and refused.attempts == 1 and "550" in refused.last_error


def test_backoff_doubles_up_to_six_hours(settings):
    settings.MAIL_OUTBOX_RETRY_SECONDS = 60
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert outbox.backoff(30) == timedelta(hours=6)


def test_after_the_maximum_attempts_a_mail_is_failed_until_retried(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenServer"
    settings.MAIL_OUTBOX_MAX_ATTEMPTS = 3
    enqueue("test:1")
    later = timezone.now()
    for _ in range(5):
        later += timedelta(days=1)
        outbox.send_pending(now=later)
    failed = OutgoingMail.objects.get()
    assert failed.status == "failed" and failed.attempts == 3 and "smtp unreachable" in failed.last_error
    assert failed.sent_at is None and not mail.outbox

    # "Retry now" (the admin's action) gives it one more attempt, now.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.retry_now(OutgoingMail.objects.all()) == 1
    assert outbox.send_pending() == 1
    assert OutgoingMail.objects.get().status == "sent" and len(mail.outbox) == 1
    assert outbox.retry_now(OutgoingMail.objects.all()) == 0  # a sent mail is never sent again


def test_a_limit_bounds_one_run():
    for n in range(5):
        enqueue(f"test:{n}")
    assert outbox.send_pending(limit=3, batch=2) == 3
    assert OutgoingMail.objects.filter(status="pending").count() == 2
    assert outbox.send_pending() == 2


def test_the_beat_sends_the_outbox_every_minute(settings):
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "core.send_pending_mail"]
    assert len(entries) == 1 and entries[0]["schedule"] == 60.0
    from config.celery import app

    assert "core.send_pending_mail" in app.tasks
    enqueue("test:1")
    assert tasks.send_pending_mail.delay().get() == 1


def test_figures_per_kind_and_status():
    enqueue("test:1", kind="complaints.digest")
    enqueue("test:2", kind="complaints.digest")
    enqueue("test:3", kind="warnings_feed.reminder")
    outbox.send_pending(limit=1)
    assert outbox.counts() == {("complaints.digest", "sent"): 1, ("complaints.digest", "pending"): 1,
                               ("warnings_feed.reminder", "pending"): 1}


# --- concurrent senders --------------------------------------------------------------------------


class RivalDuringSend(locmem.EmailBackend):
    """While the first sender holds its batch, a second sender runs in another thread (its own
    database connection)."""

    rival: dict = {}

    def send_messages(self, messages):
        if "sent" not in self.rival:
            self.rival["sent"] = None

            def run():
                try:
                    self.rival["sent"] = outbox.send_pending(batch=10)
                finally:
                    connections.close_all()

            thread = threading.Thread(target=run)
            thread.start()
            thread.join(10)
            self.rival["blocked"] = thread.is_alive()  # waited on our locks instead of skipping them
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_skip_each_others_mails(settings):
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL")
    settings.EMAIL_BACKEND = f"{__name__}.RivalDuringSend"
    RivalDuringSend.rival = {}
    OutgoingMail.objects.bulk_create(OutgoingMail(key=f"test:{n}", kind="tests.mail", subject=f"第{n}封", body="b",
                                                  recipients=["a@example.invalid"]) for n in range(4))
    # The first sender locks a batch of two; the rival, meanwhile, skips them and sends the others.
    assert outbox.send_pending(batch=2) == 2
    assert RivalDuringSend.rival["blocked"] is False and RivalDuringSend.rival["sent"] == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["第0封", "第1封", "第2封", "第3封"]  # each exactly once
    assert set(OutgoingMail.objects.values_list("status", "attempts")) == {("sent", 1)}


# --- admin ---------------------------------------------------------------------------------------


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_admin_is_the_superusers_only():
    enqueue("test:1", subject="某员工的个人信息")
    pk = OutgoingMail.objects.get().pk
    officer = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    officer.user_permissions.add(*Permission.objects.filter(content_type__app_label="core"))
    client = logged_in(officer)
    assert client.get("/admin/core/outgoingmail/").status_code == 403
    assert client.get(f"/admin/core/outgoingmail/{pk}/change/").status_code == 403
    assert "outgoingmail" not in client.get("/admin/").content.decode()

    root = logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = root.get("/admin/core/outgoingmail/")
    assert page.status_code == 200 and "某员工的个人信息" in page.content.decode()
    assert root.get("/admin/core/outgoingmail/", {"status": "pending", "kind": "tests.mail"}).status_code == 200
    assert root.get(f"/admin/core/outgoingmail/{pk}/change/").status_code == 200
    assert root.get("/admin/core/outgoingmail/add/").status_code == 403
    assert root.post(f"/admin/core/outgoingmail/{pk}/delete/", {"post": "yes"}).status_code == 403
    assert OutgoingMail.objects.filter(pk=pk).exists()


def test_admin_retry_now(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenServer"
    settings.MAIL_OUTBOX_MAX_ATTEMPTS = 1
    enqueue("test:1")
    outbox.send_pending()
    assert OutgoingMail.objects.get().status == "failed"
    root = logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = root.post("/admin/core/outgoingmail/", {"action": "retry_now",
                                                       "_selected_action": [OutgoingMail.objects.get().pk]})
    assert response.status_code == 302
    retried = OutgoingMail.objects.get()
    assert retried.status == "pending" and retried.not_before <= timezone.now()


# --- every mail of the portal goes through the outbox -------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_complaints_mail_arrives_through_the_outbox(settings, tmp_path):
    from complaints import selectors
    from tests.complaints.helpers import act, submit_case
    from tests.factories import InstitutionFactory, institution_user

    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "evidence"
    selectors.clear_holiday_cache()
    bank = InstitutionFactory(code="OB-01", name="发件箱银行")
    fc = UserFactory(username="fc", roles=["finance_center"], is_staff=True, email="fc@example.invalid")
    head = institution_user(bank, "institution_head", username="head", email="head@example.invalid")

    # A new case: its commit hands the digest to the outbox, whose sender mails it.
    case, _ = submit_case(bank, kind="report", description="x")
    assert [m.to for m in mail.outbox] == [["fc@example.invalid"]] and f"#{case.pk}" in mail.outbox[0].subject
    digest = OutgoingMail.objects.get(kind="complaints.digest")
    assert digest.key == f"complaints:digest:{bank.district_id}:{case.pk}" and digest.status == "sent"

    # An action's notification: recorded on the case, sent by the outbox.
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    assert [m.to for m in mail.outbox][1:] == [[head.email]]
    notification = case.notifications.get()
    assert notification.notified_at and notification.recipients == [head.email]
    sent = OutgoingMail.objects.get(key=f"complaints:notification:{notification.pk}")
    assert sent.kind == "complaints.referred" and sent.status == "sent"
    page = logged_in(fc).get("/admin/complaints/notification/").content.decode()
    assert "已发送" in page


@pytest.mark.django_db(transaction=True)
def test_warning_reminders_arrive_through_the_outbox(settings):
    from tests.factories import InstitutionFactory
    from tests.warnings_feed.conftest import draft, employee_login
    from warnings_feed import services
    from warnings_feed import tasks as warnings_tasks
    from warnings_feed.models import Delivery

    settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS = 3
    bank = InstitutionFactory(code="OB-02")
    employee_login(bank, "emp", "甲员工", email="emp@example.invalid")
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    services.publish(finance, draft(title="员工黄小明酒驾通报"))
    Delivery.objects.update(delivered_at=timezone.now() - timedelta(days=4))

    assert warnings_tasks.remind_unacknowledged.delay().get() == 1
    assert [m.to for m in mail.outbox] == [["emp@example.invalid"]]
    assert "员工黄某酒驾通报" in mail.outbox[0].body and "黄小明" not in mail.outbox[0].body
    reminder = OutgoingMail.objects.get()
    assert reminder.kind == "warnings_feed.reminder" and reminder.status == "sent"
    assert Delivery.objects.get().reminders == 1  # counted in the same transaction
    assert warnings_tasks.remind_unacknowledged.delay().get() == 0 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_scoring_reminders_arrive_through_the_outbox(settings):
    import datetime as dt

    from core.tabular import read_path
    from institutions.models import Membership
    from scoring import services
    from scoring import tasks as scoring_tasks
    from scoring.models import Scheme
    from tests.factories import InstitutionFactory
    from tests.scoring.conftest import DATA

    report = services.import_scheme(2030, read_path(DATA / "worked_example_norms.csv", services.NORMS_COLUMNS),
                                    read_path(DATA / "worked_example_indicators.csv", services.INDICATOR_COLUMNS),
                                    activate=True)
    assert report.ok
    settings.SCORING_REMINDER_DAYS = 7
    Scheme.objects.filter(year=2030).update(self_due_date=timezone.localdate() + dt.timedelta(days=7))
    late = InstitutionFactory(name="未提交银行")
    user = UserFactory(username="late_filer", email="late@example.invalid")
    Membership.objects.create(user=user, institution=late, role="institution_filer")

    assert scoring_tasks.remind_unsubmitted() == 1
    assert [m.to for m in mail.outbox] == [["late@example.invalid"]] and "未提交银行" in mail.outbox[0].body
    reminder = OutgoingMail.objects.get()
    assert reminder.kind == "scoring.reminder" and reminder.status == "sent"
    assert reminder.key.startswith("scoring:reminder:") and reminder.key.endswith(":late@example.invalid")
    assert scoring_tasks.remind_unsubmitted() == 0 and len(mail.outbox) == 1  # idempotent
