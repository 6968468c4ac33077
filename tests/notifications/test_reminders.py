"""Every reminder through the notification channels (issue #17): rectification items (tracking and
inspections' findings), risk alerts due and overdue, complaints due soon and overdue — each on the
SMS / DingTalk / WeCom targets configured, once (a second beat run sends nothing), and never with
an employee's name, a finding's title or a complainant's identity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from complaints import services as complaints
from complaints.models import Complaint
from institutions.models import District
from notifications import services
from notifications.models import Message
from risk import services as risk
from risk.models import Alert
from tests.complaints.helpers import act, submit_case
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tracking import services as tracking

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(db):
    return InstitutionFactory(code="RM-01", name="提醒农商银行")


@pytest.fixture
def people(bank):
    filer = institution_user(bank, "institution_filer", username="rm_filer", email="rm-filer@example.com")
    head = institution_user(bank, "institution_head", username="rm_head", email="rm-head@example.com")
    fc = UserFactory(username="rm_fc", roles=["finance_center"], email="rm-fc@example.com")
    return {"filer": filer, "head": head, "fc": fc}


def robots(gateway, bank, *, phone="13900001111"):
    """The bank's own DingTalk and WeCom robots and duty phone."""
    services.save_preference(institution=bank, channels=["sms", "dingtalk", "wecom"], phone=phone,
                             dingtalk_webhook=f"{gateway.url}/robot/send?access_token=dt-bank",
                             dingtalk_secret="SEC-bank",
                             wecom_webhook=f"{gateway.url}/cgi-bin/webhook/send?key=wc-bank")


def received(gateway) -> dict[str, list[str]]:
    """What each endpoint received, by a short name: bank robots, center robots, phones."""
    out: dict[str, list[str]] = {}
    for r in gateway.received:
        if r.path == "/sms/send":
            out.setdefault(f"sms:{r.body['phone']}", []).append(r.body["text"])
        elif r.path == "/robot/send":
            out.setdefault(f"dingtalk:{r.query['access_token']}", []).append(r.body["text"]["content"])
        else:
            out.setdefault(f"wecom:{r.query['key']}", []).append(r.body["text"]["content"])
    return out


# --- rectification items (tracking; inspections' findings are tracked items too) -----------------


def test_rectification_reminders_reach_each_channel_once_and_name_no_one(channels_on, bank, people, settings):
    settings.TRACKING_REMIND_DAYS_BEFORE = 3
    settings.TRACKING_ESCALATE_AFTER_DAYS = 5
    robots(channels_on, bank)
    services.save_preference(user=people["filer"], channels=["sms", "email"], phone="13700002222")
    services.save_preference(user=people["fc"], channels=["sms"], phone="13600003333")
    item = tracking.create_item(institution=bank, kind="finding", title="客户经理张三未按规定登记礼品",
                                start=date(2026, 11, 2), working_days=5)
    assert item.due_on == date(2026, 11, 9)

    assert tracking.send_reminders(date(2026, 11, 6)) == 1
    assert services.send_due() == 4  # bank DingTalk, bank WeCom, duty phone, the filer's phone
    got = received(channels_on)
    assert set(got) == {"dingtalk:dt-bank", "wecom:wc-bank", "sms:13900001111", "sms:13700002222"}
    text = got["sms:13700002222"][0]
    assert text == "【清廉金融】提醒农商银行有 1 项整改事项将于 2026-11-09 到期，请及时登录门户报送整改情况。"
    # the filer's mail is the reminder's own mail, not a second one from the channels
    assert not Message.objects.filter(channel="email").exists()

    # the beat runs again (hourly): nothing more
    assert tracking.send_reminders(date(2026, 11, 6)) == 0
    assert tracking.send_reminders(date(2026, 11, 7)) == 0
    assert services.send_due() == 0 and len(channels_on.received) == 4

    channels_on.received.clear()
    assert tracking.send_reminders(date(2026, 11, 10)) == 1  # overdue
    services.send_due()
    assert "已于 2026-11-09 到期，尚未报送整改情况" in received(channels_on)["sms:13900001111"][0]

    channels_on.received.clear()
    assert tracking.send_reminders(date(2026, 11, 14)) == 1  # escalation: the center hears it too
    services.send_due()
    got = received(channels_on)
    assert {"dingtalk:dt-center", "wecom:wc-center", "sms:13600003333", "dingtalk:dt-bank"} <= set(got)
    assert "sms:13700002222" not in got  # the filer is not the escalation's addressee (the head is)
    assert "逾期未整改（期限 2026-11-09）" in got["sms:13600003333"][0]
    for texts in got.values():
        assert all("张三" not in t and "礼品" not in t for t in texts)
    assert tracking.send_reminders(date(2026, 11, 20)) == 0
    assert services.send_due() == 0
    assert "短信/钉钉/企业微信" in item.events.get(action="escalated").note


def test_an_institution_that_turned_the_kind_off_gets_nothing_on_its_robots(channels_on, bank, people, settings):
    settings.TRACKING_REMIND_DAYS_BEFORE = 3
    robots(channels_on, bank)
    services.save_preference(institution=bank, channels=["dingtalk"], kinds_off=["reminder.rectification"],
                             dingtalk_webhook=f"{channels_on.url}/robot/send?access_token=dt-bank")
    tracking.create_item(institution=bank, kind="finding", title="x", start=date(2026, 11, 2), working_days=5)
    assert tracking.send_reminders(date(2026, 11, 6)) == 1
    assert services.send_due() == 0 and not channels_on.received


# --- risk alerts -----------------------------------------------------------------------------------


def _alert(bank, due_on, employee_no="E7", status="new"):
    return Alert.objects.create(institution=bank, rule="R01", rule_version="1", severity="high",
                                employee_no=employee_no, counterparty_id="C1", period="2026-03", status=status,
                                raised_on=due_on - timedelta(days=10), due_on=due_on)


def test_risk_alert_reminders_due_and_overdue_on_the_channels_once(channels_on, bank, people, settings):
    settings.RISK_REMIND_DAYS_BEFORE = 2
    robots(channels_on, bank)
    services.save_preference(user=people["head"], channels=["sms"], phone="13500004444")
    today = date(2026, 11, 10)
    _alert(bank, today + timedelta(days=1), "E1")
    _alert(bank, today + timedelta(days=1), "E2")
    _alert(bank, today + timedelta(days=5), "E3")  # not yet
    _alert(bank, today - timedelta(days=1), "E4")  # overdue
    _alert(bank, today - timedelta(days=3), "E5", status="dismissed")  # closed: never

    assert risk.remind_due_soon(today) == 1
    assert risk.remind_overdue(today) == 1
    assert services.send_due() == 8  # (robots ×2, duty phone, the head's phone) × (due soon, overdue)
    got = received(channels_on)
    assert set(got) == {"dingtalk:dt-bank", "wecom:wc-bank", "sms:13900001111", "sms:13500004444"}
    texts = got["sms:13500004444"]
    assert "提醒农商银行有 2 条风险预警的核查期限为 2026-11-11" in texts[0] + texts[1]
    assert "提醒农商银行有 1 条风险预警已超过核查期限" in texts[0] + texts[1]
    # the beat again the same day: nothing; the next day, the due-soon date is the same: nothing new
    assert risk.remind_due_soon(today) == 0 and risk.remind_overdue(today) == 0
    assert risk.remind_due_soon(today + timedelta(days=1)) == 0
    assert services.send_due() == 0
    for texts in got.values():
        assert all("E1" not in t and "E4" not in t for t in texts)


# --- complaints due soon and overdue ----------------------------------------------------------------


def test_complaint_due_reminders_reach_the_finance_center_never_the_complainant(channels_on, bank, people,
                                                                                settings):
    settings.COMPLAINTS_DUE_SOON_DAYS = 2
    services.save_preference(user=people["fc"], channels=["sms", "email"], phone="13600003333")
    robots(channels_on, bank)  # the bank hears nothing of complaints' deadlines
    jiaojiang = District.objects.get(code="331002")
    other_fc = UserFactory(username="rm_fc_jj", roles=["finance_center"], roles__districts=["331002"])
    services.save_preference(user=other_fc, channels=["sms"], phone="13600009999")
    other = InstitutionFactory(code="RM-02", name="椒江银行", district=jiaojiang)
    today = timezone.localdate()
    soon, _ = submit_case(bank, anonymous=False, contact_name="李四", contact_phone="13812345678",
                          description="客户经理王五索要好处费")
    late, _ = submit_case(bank, kind="report", description="王五")
    act(soon, "accept", people["fc"])
    act(late, "accept", people["fc"])
    Message.objects.all().delete()  # the acceptance notice to the complainant: another test's
    Complaint.objects.filter(pk=soon.pk).update(next_due_on=today + timedelta(days=1))
    Complaint.objects.filter(pk=late.pk).update(next_due_on=today - timedelta(days=2))
    elsewhere, _ = submit_case(other)
    Complaint.objects.filter(pk=elsewhere.pk).update(next_due_on=today)

    assert complaints.create_due_reminders(today) == 3
    services.send_due()
    got = received(channels_on)
    assert set(got) == {"sms:13600003333", "dingtalk:dt-center", "wecom:wc-center", "sms:13600009999"}
    mine = sorted(got["sms:13600003333"])
    assert mine == sorted([
        f"【清廉金融】有 1 件投诉举报将于 {today + timedelta(days=1):%Y-%m-%d} 前到期，请及时办理。",
        f"【清廉金融】有 1 件投诉举报已超过办理期限（最早 {today - timedelta(days=2):%Y-%m-%d}），请尽快办理。"])
    assert got["sms:13600009999"] == [f"【清廉金融】有 1 件投诉举报将于 {today:%Y-%m-%d} 前到期，请及时办理。"]
    for texts in got.values():
        for t in texts:
            assert not any(s in t for s in ("李四", "13812345678", "王五", "好处费", "提醒农商银行"))
    # the fc's e-mail is the case reminder's own mail (complaints' Notification), not a second one
    assert not Message.objects.filter(channel="email").exists()
    # the hourly beat again: no new reminder, nothing sent
    count = len(channels_on.received)
    assert complaints.create_due_reminders(today) == 0
    assert services.send_due() == 0 and len(channels_on.received) == count
    # overdue cases are reminded again the next day: once more
    assert complaints.create_due_reminders(today + timedelta(days=1)) >= 1
    assert services.send_due() >= 1
