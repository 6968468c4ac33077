"""Notifications (handed to core's mail outbox), deadline reminders, retention: idempotent, queued
only after commit."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends import locmem
from django.utils import timezone

from complaints import services, tasks
from complaints.images import process_image
from complaints.models import Complaint, EvidenceImage, Notification
from core import outbox
from core.models import OutgoingMail
from tests.complaints.helpers import act, make_image, submit_case
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_new_case_notification_sent_after_commit(bank, fc, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        case, _ = submit_case(bank, kind="report", description="x", anonymous=False, contact_name="黄小明",
                              contact_phone="13812345678")
    assert len(callbacks) == 1 and not mail.outbox  # nothing sent before the case is committed
    with django_capture_on_commit_callbacks(execute=True):  # the hand-over kicks the outbox's sender
        callbacks[0]()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["fc@example.invalid"] and f"#{case.pk}" in message.subject
    # No personal data in mail.
    assert "黄" not in message.body and "13812345678" not in message.body and "决定是否受理" in message.body
    case.refresh_from_db()
    assert case.staff_notified_at is not None
    assert tasks.send_pending_notifications() == 0  # idempotent: nothing sent twice
    assert outbox.send_pending() == 0 and len(mail.outbox) == 1
    assert OutgoingMail.objects.get().key == f"complaints:digest:{bank.district_id}:{case.pk}"


def test_new_cases_go_out_as_one_digest(bank, other_bank, fc):
    cases = [submit_case(bank if n % 2 else other_bank, kind="report", description=f"第{n}件")[0] for n in range(5)]
    submit_case(bank, kind="rating", description="", ratings={"attitude": 5})
    assert services.send_new_case_digest() == 5
    assert outbox.send_pending() == 1
    assert len(mail.outbox) == 1 and "5 件" in mail.outbox[0].subject
    assert all(f"#{c.pk}" in mail.outbox[0].body for c in cases)
    assert services.send_new_case_digest() == 0


class BrokenMailServer(locmem.EmailBackend):
    def send_messages(self, messages):
        raise OSError("smtp down")


def test_digest_kept_for_next_run_when_mail_fails(bank, fc, settings):
    case, _ = submit_case(bank, kind="report")
    settings.EMAIL_BACKEND = f"{__name__}.BrokenMailServer"
    assert services.send_new_case_digest() == 1  # handed over to the outbox, where it waits
    assert outbox.send_pending() == 0 and not mail.outbox
    waiting = OutgoingMail.objects.get()
    assert waiting.status == "pending" and waiting.attempts == 1 and "smtp down" in waiting.last_error
    case.refresh_from_db()
    assert case.staff_notified_at is not None and services.send_new_case_digest() == 0  # never twice
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.send_pending(now=waiting.not_before) == 1
    assert mail.outbox[0].to == ["fc@example.invalid"] and f"#{case.pk}" in mail.outbox[0].subject


def test_failed_enqueue_never_breaks_intake(bank, monkeypatch, django_capture_on_commit_callbacks):
    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_pending_notifications, "apply_async", broken)
    with django_capture_on_commit_callbacks(execute=True):
        case, _ = submit_case(bank, kind="report")
    case.refresh_from_db()
    assert case.staff_notified_at is None  # waits in the outbox for the beat job


def test_forward_and_refer_notify_the_handlers(bank, fc, discipline, head, django_capture_on_commit_callbacks):
    case, _ = submit_case(bank, kind="report")
    other, _ = submit_case(bank, kind="complaint")
    services.send_pending_notifications()
    outbox.send_pending()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        act(case, "accept", fc)
        act(case, "forward_discipline", fc)
        act(other, "accept", fc)
        act(other, "refer_institution", fc)
    recipients = sorted(tuple(m.to) for m in mail.outbox)
    assert recipients == [("disc@example.invalid",), ("head1@example.invalid",)]


def test_due_reminders_flag_soon_and_overdue_once(bank, fc, settings):
    soon, _ = submit_case(bank, kind="report")
    late, _ = submit_case(bank, kind="report")
    fine, _ = submit_case(bank, kind="report")
    today = timezone.localdate()
    Complaint.objects.filter(pk=soon.pk).update(next_due_on=today + timedelta(days=2))
    Complaint.objects.filter(pk=late.pk).update(next_due_on=today - timedelta(days=1))
    Complaint.objects.filter(pk=fine.pk).update(next_due_on=today + timedelta(days=10))
    services.send_pending_notifications()
    outbox.send_pending()
    mail.outbox.clear()
    assert tasks.check_deadlines() == 2
    outbox.send_pending()
    kinds = dict(Notification.objects.filter(kind__in=["due_soon", "overdue"]).values_list("complaint_id", "kind"))
    assert kinds == {soon.pk: "due_soon", late.pk: "overdue"}
    assert len(mail.outbox) == 2 and all(m.to == ["fc@example.invalid"] for m in mail.outbox)
    assert "已超过" in next(m.body for m in mail.outbox if f"#{late.pk}" in m.subject)
    assert tasks.check_deadlines() == 0 and outbox.send_pending() == 0  # hourly beat: no duplicates
    assert len(mail.outbox) == 2
    # Overdue cases are reminded again the next day.
    assert services.create_due_reminders(today + timedelta(days=1)) == 1


def test_reminder_goes_to_assignee(bank, fc):
    other_fc = UserFactory(username="fc2", roles=["finance_center"], email="fc2@example.invalid")
    case, _ = submit_case(bank, kind="report")
    act(case, "accept", other_fc)  # the officer who accepts becomes the handler
    Complaint.objects.filter(pk=case.pk).update(next_due_on=timezone.localdate())
    services.send_pending_notifications()
    outbox.send_pending()
    mail.outbox.clear()
    tasks.check_deadlines()
    outbox.send_pending()
    assert [m.to for m in mail.outbox] == [["fc2@example.invalid"]]


def test_closed_cases_personal_data_erased_after_retention(bank, fc, settings):
    settings.COMPLAINTS_PII_RETENTION_DAYS = 30
    data = make_image()
    old, _ = submit_case(bank, kind="complaint", anonymous=False, contact_name="黄小明",
                         contact_phone="13812345678", images=[(process_image(data), data)])
    recent, _ = submit_case(bank, kind="complaint", anonymous=False, contact_name="李四",
                            contact_phone="13912345678")
    open_case, _ = submit_case(bank, kind="complaint", anonymous=False, contact_name="王五",
                               contact_phone="13712345678")
    for case in (old, recent):
        act(case, "reject", fc, reason="不属受理范围")
    Complaint.objects.filter(pk=old.pk).update(closed_at=timezone.now() - timedelta(days=31))
    image = EvidenceImage.objects.get(complaint=old)
    sealed_path = image.sealed_original.path
    assert tasks.erase_expired_personal_data() == 1
    old.refresh_from_db()
    assert old.contact_name_enc == "" and old.contact_phone_enc == "" and old.pii_erased_at
    assert services.masked_identity(old) is None
    image.refresh_from_db()
    assert image.sealed_original == "" and image.original_sha256  # the hash stays as evidence
    assert image.working  # the EXIF-free copy stays
    recent.refresh_from_db()
    open_case.refresh_from_db()
    assert recent.contact_name_enc and open_case.contact_name_enc
    assert tasks.erase_expired_personal_data() == 0  # idempotent
    assert sealed_path  # the file itself goes once the erasure commits: see the transactional test below


@pytest.mark.django_db(transaction=True)
def test_sealed_original_file_deleted_on_erasure(reference_data, bank, fc, settings):
    import os

    settings.COMPLAINTS_PII_RETENTION_DAYS = 0
    data = make_image()
    case, _ = submit_case(bank, kind="complaint", images=[(process_image(data), data)])
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="unsubstantiated")
    act(case, "close", fc, reply="已答复")
    Complaint.objects.filter(pk=case.pk).update(closed_at=timezone.now() - timedelta(days=1))
    path = EvidenceImage.objects.get().sealed_original.path
    assert os.path.exists(path)
    services.erase_expired_personal_data()
    assert not os.path.exists(path)


def test_beat_schedule_registered(settings):
    tasks_in_beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"complaints.tasks.send_pending_notifications", "complaints.tasks.check_deadlines",
            "complaints.tasks.erase_expired_personal_data"} <= tasks_in_beat


def test_enqueue_is_batched_with_a_broker(monkeypatch, settings):
    from complaints import services

    calls = []
    monkeypatch.setitem(tasks.send_pending_notifications.app.conf, "task_always_eager", False)
    # core.queue publishes it (through the broker's connection pool): record instead.
    monkeypatch.setattr("core.queue.publish_now", lambda task, args, kwargs: calls.append(task.name))
    monkeypatch.setattr(services, "_next_enqueue", 0.0)
    settings.COMPLAINTS_NOTIFY_BATCH_SECONDS = 5
    for _ in range(10):
        services.enqueue_notifications()
    assert calls == [tasks.send_pending_notifications.name]  # one send for the whole burst
    settings.COMPLAINTS_NOTIFY_BATCH_SECONDS = 0
    services.enqueue_notifications()
    assert len(calls) == 2


def test_production_refuses_the_development_pii_key():
    import os
    import subprocess
    import sys

    from django.conf import settings as django_settings

    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "k" * 20 + "-production-secret-0123456789abcdef"}
    env.pop("COMPLAINTS_PII_KEY", None)
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=django_settings.BASE_DIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "COMPLAINTS_PII_KEY" in out.stderr
