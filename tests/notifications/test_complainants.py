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


# --- recorded on the case: the log and the finance center's case page (issue #17) ------------------


def _case_page(user, case) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(f"/complaints/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_notice_is_logged_on_the_case_and_shown_to_the_finance_center_masked(channels_on, bank, fc):
    from complaints import selectors as complaint_selectors

    case = named(bank)
    act(case, "accept", fc)
    assert list(case.events.filter(action__startswith="notice").values_list("action", "reason")) == [
        ("notice_queued", "投诉受理告知 · 短信 · 138****5678 · 待发送")]
    assert services.send_due() == 1
    sent = case.events.get(action="notice_sent")
    assert "138****5678" in sent.reason and "已发送" in sent.reason and "短信" in sent.reason
    assert services.send_due() == 0 and case.events.filter(action="notice_sent").count() == 1
    html = _case_page(fc, case)
    assert 'id="complainant-notices"' in html and "投诉受理告知" in html and "138****5678" in html
    assert "短信告知反映人（已发送）" in html
    # the number itself appears only where the finance center's identity block shows it (masked too)
    assert "13812345678" not in html
    # the institution's side never reads the notices (their log, the API's events)
    policy = complaint_selectors.CasePolicy.for_sides(frozenset({"institution"}))
    assert not [e for e in complaint_selectors.events_for(case, policy) if e.action.startswith("notice")]
    assert complaint_selectors.complainant_notices(case, policy) == []


def test_a_failed_notice_is_shown_with_its_error_and_logged(channels_on, bank, fc, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.NOTIFY_MAX_ATTEMPTS = 2
    channels_on.answer((200, {"code": 17, "message": "号码已停机"}))
    case = named(bank)
    act(case, "accept", fc)
    assert services.send_due() == 0
    html = _case_page(fc, case)
    assert "待发送" in html and "号码已停机" in html  # a retry is waiting: the error is shown
    assert services.send_due(now=timezone.now() + timedelta(minutes=5)) == 0
    failed = case.events.get(action="notice_failed")
    assert "138****5678" in failed.reason and "发送失败" in failed.reason and "号码已停机" in failed.reason
    html = _case_page(fc, case)
    assert "notice-failed" in html and "短信告知反映人（发送失败）" in html and "号码已停机" in html
    assert "13812345678" not in html


def test_a_named_case_that_cannot_be_told_says_why(settings, bank, fc):
    settings.NOTIFY_CHANNELS = ["email"]
    case = named(bank)
    act(case, "accept", fc)
    skipped = case.events.get(action="notice_skipped")
    assert "未开通短信渠道" in skipped.reason
    assert "未能短信告知反映人" in _case_page(fc, case)


def test_an_unreadable_number_is_said_so_and_nothing_is_sent(channels_on, settings, bank, fc):
    """A number no configured key opens (a key dropped too early): the action goes on, the case's log
    says why the complainant was not told, and nothing is queued."""
    from cryptography.fernet import Fernet

    case = named(bank)
    settings.COMPLAINTS_PII_KEYS = [Fernet.generate_key().decode()]
    act(case, "accept", fc)
    skipped = case.events.get(action="notice_skipped")
    assert "无法解密" in skipped.reason
    assert services.send_due() == 0 and not channels_on.received


def test_the_public_tracking_page_never_shows_the_phone_or_the_notices(channels_on, bank, fc):
    import re

    from django.test import Client

    case, code = submit_case(bank, anonymous=False, contact_name="王小明", contact_phone="13812345678",
                             description="x")
    act(case, "accept", fc)
    services.send_due()
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/q/track/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    response = browser.post("/q/track/", {"code": code, "csrfmiddlewaretoken": token})
    html = response.content.decode()
    assert response.status_code == 200 and "已受理" in html
    for secret in ("13812345678", "138****5678", "王小明"):
        assert secret not in html
