"""The beat job: due-soon and overdue reminders and the escalation, once each per due date."""

from datetime import date

import pytest

from core.models import OutgoingMail
from tracking import services
from tracking.models import Reminder

pytestmark = pytest.mark.django_db


def _item(places):
    # 5 working days after Mon 2 Nov 2026: Mon 9 Nov.
    return services.create_item(institution=places["a"], kind="finding", title="未按规定登记礼品",
                                start=date(2026, 11, 2),
                                working_days=5)


def test_due_soon_overdue_and_escalation(places, settings):
    settings.TRACKING_REMIND_DAYS_BEFORE = 3
    settings.TRACKING_ESCALATE_AFTER_DAYS = 5
    item = _item(places)
    assert item.due_on == date(2026, 11, 9)
    assert services.send_reminders(date(2026, 11, 4)) == 0
    assert services.send_reminders(date(2026, 11, 6)) == 1
    assert services.send_reminders(date(2026, 11, 7)) == 0  # once per due date
    mail = OutgoingMail.objects.get(kind="tracking.due_soon")
    assert mail.recipients == ["filer-a@example.com", "head-a@example.com"]
    assert services.send_reminders(date(2026, 11, 10)) == 1
    assert OutgoingMail.objects.get(kind="tracking.overdue")
    assert services.send_reminders(date(2026, 11, 14)) == 1
    escalation = OutgoingMail.objects.get(kind="tracking.escalation")
    assert escalation.recipients == ["fc@example.com", "head-a@example.com"]
    assert services.send_reminders(date(2026, 11, 20)) == 0
    assert Reminder.objects.count() == 3
    assert list(item.events.values_list("action", flat=True)) == ["created", "reminded", "overdue", "escalated"]


def test_reported_items_are_not_reminded(places):
    item = _item(places)
    services.report(item, places["filer_a"], measures="已整改")
    assert services.send_reminders(date(2026, 11, 20)) == 0
    assert not OutgoingMail.objects.exists()


def test_new_due_date_after_return_is_reminded_again(places):
    item = _item(places)
    services.send_reminders(date(2026, 11, 10))
    services.report(item, places["filer_a"], measures="整改中")
    services.return_item(item, places["fc"], reason="不充分", working_days=1)
    item.refresh_from_db()
    services.send_reminders(date(2030, 1, 1))
    assert Reminder.objects.filter(kind="overdue").count() == 2
