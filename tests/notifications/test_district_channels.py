"""Per-district finance-center channels (issue #17): a district's reminders for "the center" reach that
district's own robots, never another district's group; a district without any falls back to the
installation's robots; the district's finance center edits them on 消息与推送 (another district's
page: 404; a bad address refused in Chinese, nothing stored); the secret is write-only."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import unquote

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services as complaints
from complaints.models import Complaint
from institutions.models import District
from notifications import rules, services
from notifications.models import DistrictChannels, Message
from tests.complaints.helpers import act, submit_case
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tracking import services as tracking

from .test_reminders import received

pytestmark = pytest.mark.django_db

LUQIAO, JIAOJIANG = "331004", "331002"


@pytest.fixture
def districts(db):
    return District.objects.get(code=LUQIAO), District.objects.get(code=JIAOJIANG)


@pytest.fixture
def fc_a(db):
    return UserFactory(username="dc_fc_a", roles=["finance_center"])


@pytest.fixture
def fc_b(db):
    return UserFactory(username="dc_fc_b", roles=["finance_center"], roles__districts=[JIAOJIANG])


def own_robots(gateway, district, actor, tag, *, wecom=True):
    return services.save_district_channels(
        district, actor, dingtalk_webhook=f"{gateway.url}/robot/send?access_token=dt-{tag}",
        dingtalk_secret=f"SEC-{tag}",
        wecom_webhook=f"{gateway.url}/cgi-bin/webhook/send?key=wc-{tag}" if wecom else "")


def _due_cases(a_bank, b_bank, fc, today):
    """One case of each district falling due tomorrow."""
    mine, _ = submit_case(a_bank, kind="report", description="路桥的事")
    act(mine, "accept", fc)
    theirs, _ = submit_case(b_bank, kind="report", description="椒江的事")
    Message.objects.all().delete()
    Complaint.objects.filter(pk=mine.pk).update(next_due_on=today + timedelta(days=1))
    Complaint.objects.filter(pk=theirs.pk).update(next_due_on=today + timedelta(days=3))


def test_each_districts_complaint_reminder_reaches_its_own_robots_only(channels_on, districts, fc_a, fc_b, settings):
    settings.COMPLAINTS_DUE_SOON_DAYS = 5
    luqiao, jiaojiang = districts
    own_robots(channels_on, luqiao, fc_a, "a")
    own_robots(channels_on, jiaojiang, fc_b, "b", wecom=False)
    a_bank = InstitutionFactory(code="DC-A1", district=luqiao)
    b_bank = InstitutionFactory(code="DC-B1", district=jiaojiang)
    today = timezone.localdate()
    _due_cases(a_bank, b_bank, fc_a, today)

    assert complaints.create_due_reminders(today) == 2
    services.send_due()
    got = received(channels_on)
    a_text = f"【清廉金融】有 1 件投诉举报将于 {today + timedelta(days=1):%Y-%m-%d} 前到期，请及时办理。"
    b_text = f"【清廉金融】有 1 件投诉举报将于 {today + timedelta(days=3):%Y-%m-%d} 前到期，请及时办理。"
    assert got == {"dingtalk:dt-a": [a_text], "wecom:wc-a": [a_text], "dingtalk:dt-b": [b_text]}
    # Each DingTalk request is signed with its own district's secret.
    for request in channels_on.received:
        if request.path == "/robot/send":
            secret = {"dt-a": "SEC-a", "dt-b": "SEC-b"}[request.query["access_token"]]
            assert request.query["sign"] == unquote(rules.dingtalk_sign(secret, int(request.query["timestamp"])))
    # The installation's shared robots heard nothing.
    assert not Message.objects.filter(recipient__contains="-center").exists()


def test_a_district_without_its_own_falls_back_to_the_installation_robots(channels_on, districts, fc_a, settings):
    settings.COMPLAINTS_DUE_SOON_DAYS = 5
    luqiao, jiaojiang = districts
    own_robots(channels_on, luqiao, fc_a, "a")
    a_bank = InstitutionFactory(code="DC-A2", district=luqiao)
    b_bank = InstitutionFactory(code="DC-B2", district=jiaojiang)
    today = timezone.localdate()
    _due_cases(a_bank, b_bank, fc_a, today)

    assert complaints.create_due_reminders(today) == 2
    services.send_due()
    got = received(channels_on)
    b_text = f"【清廉金融】有 1 件投诉举报将于 {today + timedelta(days=3):%Y-%m-%d} 前到期，请及时办理。"
    assert got["dingtalk:dt-center"] == [b_text] and got["wecom:wc-center"] == [b_text]
    assert len(got["dingtalk:dt-a"]) == 1 and b_text not in got["dingtalk:dt-a"]


def test_only_a_duty_phone_is_still_the_districts_own_no_shared_robot(channels_on, districts, fc_a):
    luqiao, _ = districts
    services.save_district_channels(luqiao, fc_a, phone="13500001111")
    targets = services.district_targets("reminder.complaints_due", luqiao)
    assert [(t.channel, t.recipient) for t in targets] == [("sms", "13500001111")]
    # Emptied again: the installation's robots.
    services.save_district_channels(luqiao, fc_a)
    assert {t.recipient for t in services.district_targets("x", luqiao.pk)} == {
        f"{channels_on.url}/robot/send?access_token=dt-center", f"{channels_on.url}/cgi-bin/webhook/send?key=wc-center"}


def test_a_rectification_escalation_reaches_the_items_district_robots(channels_on, districts, fc_a, fc_b, settings):
    settings.TRACKING_REMIND_DAYS_BEFORE = 3
    settings.TRACKING_ESCALATE_AFTER_DAYS = 5
    luqiao, jiaojiang = districts
    own_robots(channels_on, luqiao, fc_a, "a")
    own_robots(channels_on, jiaojiang, fc_b, "b")
    bank = InstitutionFactory(code="DC-B3", name="椒江整改银行", district=jiaojiang)
    institution_user(bank, "institution_head", username="dc_head_b")
    tracking.create_item(institution=bank, kind="finding", title="某事项", start=date(2026, 11, 2), working_days=5)
    assert tracking.send_reminders(date(2026, 11, 14)) == 2  # overdue, and escalated
    services.send_due()
    got = received(channels_on)
    assert {"dingtalk:dt-b", "wecom:wc-b"} <= set(got)
    assert not {"dingtalk:dt-a", "wecom:wc-a", "dingtalk:dt-center", "wecom:wc-center"} & set(got)
    assert len(got["dingtalk:dt-b"]) == 1 and "椒江整改银行" in got["dingtalk:dt-b"][0]


# --- the page -----------------------------------------------------------------------------------


def test_the_finance_center_edits_its_own_districts_channels(client, districts, fc_a):
    luqiao, _ = districts
    client.force_login(fc_a)
    page = client.get(reverse("notifications:overview"))
    assert page.status_code == 200
    assert reverse("notifications:save-district", args=[LUQIAO]).encode() in page.content
    assert reverse("notifications:save-district", args=[JIAOJIANG]).encode() not in page.content

    url = reverse("notifications:save-district", args=[LUQIAO])
    response = client.post(url, {"dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=aaa",
                                 "dingtalk_secret": "SECtopsecret1", "phone": "13500002222",
                                 "wecom_webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1"})
    assert response.status_code == 302
    row = DistrictChannels.objects.get(district=luqiao)
    assert (row.dingtalk_secret, row.phone, row.updated_by) == ("SECtopsecret1", "13500002222", fc_a)
    # The secret is write-only: never shown; blank keeps it.
    page = client.get(reverse("notifications:overview"))
    assert b"SECtopsecret1" not in page.content and "已设置（留空不变）" in page.content.decode()
    client.post(url, {"dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=bbb"})
    row.refresh_from_db()
    assert row.dingtalk_secret == "SECtopsecret1" and row.wecom_webhook == "" and row.phone == ""
    # Removing the webhook removes the secret.
    client.post(url, {})
    row.refresh_from_db()
    assert row.dingtalk_secret == "" and not row.configured


@pytest.mark.parametrize("who", ["fc_b", "head", "fc_city"])
def test_another_districts_page_is_404(client, districts, fc_b, who):
    del districts  # the districts exist (migrations); the page is asked for 路桥
    user = {"fc_b": fc_b,
            "head": institution_user(InstitutionFactory(code="DC-H1"), "institution_head", username="dc_head"),
            "fc_city": UserFactory(username="dc_city", roles=["city"])}[who]
    client.force_login(user)
    response = client.post(reverse("notifications:save-district", args=[LUQIAO]),
                           {"dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=x"})
    assert response.status_code == 404
    assert client.post(reverse("notifications:save-district", args=["999999"]), {}).status_code == 404
    assert not DistrictChannels.objects.exists()


@pytest.mark.parametrize("field, value, reason", [
    ("dingtalk_webhook", "http://oapi.dingtalk.com/robot/send?access_token=x", "须以 https:// 开头"),
    ("wecom_webhook", "javascript:alert(1)", "须以 https:// 开头"),
    ("wecom_webhook", "https://", "格式不正确"),
    ("dingtalk_webhook", "https://oapi.dingtalk.com/robot send", "不能包含空白"),
    ("dingtalk_webhook", "https://x.cn/" + "a" * 600, "过长"),
    ("phone", "12345", "手机号格式不正确"),
    ("email", "not-a-mail", "邮箱格式不正确"),
    ("dingtalk_secret", "SEC with space", "密钥格式不正确"),
])
def test_a_bad_field_is_refused_in_chinese_and_nothing_is_stored(client, districts, fc_a, field, value, reason):
    luqiao, _ = districts
    own = services.save_district_channels(luqiao, fc_a, wecom_webhook="https://qyapi.weixin.qq.com/x?key=old")
    client.force_login(fc_a)
    body = {"dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=new", field: value}
    response = client.post(reverse("notifications:save-district", args=[LUQIAO]), body)
    assert response.status_code == 400
    assert reason in response.content.decode()
    own.refresh_from_db()
    assert (own.dingtalk_webhook, own.wecom_webhook) == ("", "https://qyapi.weixin.qq.com/x?key=old")


def test_admin_keeps_the_secret_write_only(client, districts):
    luqiao, _ = districts
    admin = UserFactory(username="dc_su", is_superuser=True, is_staff=True)
    client.force_login(admin)
    add = reverse("admin:notifications_districtchannels_add")
    response = client.post(add, {"district": luqiao.pk, "dingtalk_webhook": "ftp://x", "dingtalk_secret": "SECa"})
    assert response.status_code == 200 and not DistrictChannels.objects.exists()
    response = client.post(add, {"district": luqiao.pk, "dingtalk_secret": "SECadmin",
                                 "dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=z"})
    assert response.status_code == 302
    row = DistrictChannels.objects.get()
    assert row.dingtalk_secret == "SECadmin" and row.updated_by == admin
    change = reverse("admin:notifications_districtchannels_change", args=[row.pk])
    assert b"SECadmin" not in client.get(change).content
    client.post(change, {"district": luqiao.pk, "dingtalk_secret": "",
                         "dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=z2"})
    row.refresh_from_db()
    assert row.dingtalk_secret == "SECadmin" and row.dingtalk_webhook.endswith("z2")
