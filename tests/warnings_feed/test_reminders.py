from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from core import outbox
from core.models import OutgoingMail
from warnings_feed import services, tasks
from warnings_feed.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged(org, publish, settings):
    """A warning delivered four days ago; reminders after three days, at most twice."""
    settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS = 3
    settings.WARNINGS_MAX_REMINDERS = 2
    warning = publish(org.finance, title="员工黄小明酒驾通报")
    Delivery.objects.update(delivered_at=timezone.now() - timedelta(days=4))
    return warning


def recipients() -> list[str]:
    """Who got mail: the reminders are enqueued in core's outbox, whose sender mails them."""
    outbox.send_pending()
    return sorted(address for message in mail.outbox for address in message.to)


def test_employees_who_have_not_acknowledged_are_mailed(org, aged):
    assert services.send_reminders() == 2  # emp_a and emp_b have e-mail addresses; emp_c has none
    assert recipients() == ["emp_a@example.invalid", "emp_b@example.invalid"]
    message = mail.outbox[0]
    assert "尚未确认知悉" in message.subject
    assert "员工黄某酒驾通报" in message.body and "黄小明" not in message.body
    assert "/warnings/" in message.body


def test_acknowledged_and_recent_deliveries_are_not_reminded(org, aged, publish):
    services.acknowledge(org.emp_a, aged)
    publish(org.finance, title="新警示")  # delivered just now
    assert services.send_reminders() == 1
    assert recipients() == ["emp_b@example.invalid"]
    assert "新警示" not in mail.outbox[0].body


def test_reminded_again_every_n_days_at_most_max_times(org, aged):
    now = timezone.now()
    assert services.send_reminders(now=now) == 2
    assert services.send_reminders(now=now + timedelta(hours=1)) == 0  # not twice the same day
    assert services.send_reminders(now=now + timedelta(days=3)) == 2
    assert services.send_reminders(now=now + timedelta(days=6)) == 0  # WARNINGS_MAX_REMINDERS = 2
    assert set(Delivery.objects.filter(employee__user=org.emp_a).values_list("reminders", flat=True)) == {2}
    assert OutgoingMail.objects.filter(kind="warnings_feed.reminder").count() == 4  # one per employee and round
    assert recipients() == ["emp_a@example.invalid"] * 2 + ["emp_b@example.invalid"] * 2


def test_one_mail_per_employee_lists_every_pending_warning(org, aged, publish):
    second = publish(org.finance, title="第二条警示", scope="institution", institution_code="A001")
    Delivery.objects.filter(warning=second).update(delivered_at=timezone.now() - timedelta(days=5))
    services.send_reminders()
    outbox.send_pending()
    to_a = [m for m in mail.outbox if m.to == ["emp_a@example.invalid"]]
    assert len(to_a) == 1 and "2 条" in to_a[0].subject
    assert "员工黄某酒驾通报" in to_a[0].body and "第二条警示" in to_a[0].body


def test_the_beat_runs_the_reminders(org, aged):
    assert tasks.remind_unacknowledged.delay().get() == 2
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"warnings_feed.remind_unacknowledged", "warnings_feed.publish_due"} <= schedule


def test_reminder_mails_mask_the_registry_names_too(org, publish, settings):
    """A name neither listed on the warning nor found by the tagger, but in the registry of the
    institutions concerned, is masked in the reminder mail as on the pages (issue #11, item 3)."""
    from core.masking import detect_names
    from tests.factories import EmployeeFactory

    settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS = 3
    title = "贷款由任重远经办的通报"
    assert "任重远" not in detect_names(title)
    EmployeeFactory(institution=org.a, name="任重远")
    publish(org.finance, title=title, names=[])
    Delivery.objects.update(delivered_at=timezone.now() - timedelta(days=4))
    assert services.send_reminders() >= 1
    recipients()
    assert mail.outbox and all("任重远" not in m.body and "任某" in m.body for m in mail.outbox)
