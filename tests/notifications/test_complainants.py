"""Named complainants told of acceptance and result by SMS (the fake gateway), recorded on the case;
anonymous cases never; no name, institution or case text in the message."""

from __future__ import annotations

import pytest

from notifications import selectors, services
from notifications.models import Message
from tests.complaints.helpers import act, submit_case
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _evidence(settings, tmp_path):
    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "evidence"


@pytest.fixture
def bank(db):
    return InstitutionFactory(code="NT-01", name="通知农商银行")


@pytest.fixture
def fc(db):
    return UserFactory(username="fc_nt", roles=["finance_center"], is_staff=True)


def named(bank):
    return submit_case(bank, anonymous=False, contact_name="王小明", contact_phone="13812345678",
                       description="柜员王某索要好处费")[0]


def test_acceptance_and_result_reach_the_named_complainant(channels_on, bank, fc):
    case = named(bank)
    act(case, "accept", fc)
    assert services.send_due() == 1
    accepted = channels_on.received[0].body
    assert accepted["phone"] == "13812345678"
    assert "已于" in accepted["text"] and "受理" in accepted["text"] and "前告知办理结果" in accepted["text"]
    for secret in ("王小明", "王某", "通知农商银行", "好处费"):
        assert secret not in accepted["text"]
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    act(case, "close", fc, reply="经核查属实，已督促整改。")
    assert services.send_due() == 1
    assert "已办结" in channels_on.received[1].body["text"]
    notices = selectors.case_notices(case.pk)
    assert [n["kind"] for n in notices] == ["complaints.result", "complaints.accepted"]
    assert all(n["status"] == "已发送" and n["recipient"] == "138****5678" for n in notices)
    # recorded once: acting again (a reopened flow) never sends the same notice twice
    assert Message.objects.filter(key=f"complaints:{case.pk}:accept").count() == 1


def test_the_acceptance_notice_names_the_due_date(channels_on, bank, fc):
    case = named(bank)
    act(case, "accept", fc)
    case.refresh_from_db()
    message = Message.objects.get()
    due = (case.deadlines.get("conclude") or case.deadlines.get("decide"))["date"]
    year, month, day = due.split("-")
    assert f"{year}年{month}月{day}日" in message.body


def test_anonymous_cases_are_never_notified(channels_on, bank, fc):
    case = submit_case(bank)[0]
    act(case, "accept", fc)
    assert Message.objects.count() == 0


def test_no_sms_channel_means_no_message_and_the_case_goes_on(settings, bank, fc):
    settings.NOTIFY_CHANNELS = ["email"]
    case = named(bank)
    act(case, "accept", fc)
    case.refresh_from_db()
    assert case.status != "received" and Message.objects.count() == 0
