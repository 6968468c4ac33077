"""Each channel against a local fake gateway: what it receives (signature, token, text), retries,
failures shown, quiet hours, rate limits, preferences."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from core.errors import DomainError
from core.models import OutgoingMail
from notifications import rules, services
from notifications.models import Message
from tests.concurrency import crossing
from tests.factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def later(minutes: int):
    return timezone.now() + timedelta(minutes=minutes)


def test_sms_reaches_the_gateway_with_token_sign_and_text(channels_on):
    assert services.notify_phone("t:sms:1", "complaints.result", {"received": "2026-11-02"}, "13800138000") == 1
    assert services.send_due() == 1
    [got] = channels_on.received
    assert got.path == "/sms/send" and got.headers["authorization"] == "Bearer sms-token-1"
    assert got.body == {"phone": "13800138000", "sign": "清廉金融",
                        "text": "【清廉金融】您于 2026-11-02 提交的反映已办结，请凭回执码在门户查看答复。"}
    message = Message.objects.get()
    assert message.status == "sent" and message.attempts == 1 and message.sent_at is not None


def test_dingtalk_requests_are_signed_as_dingtalk_requires(channels_on):
    services.notify("t:dt:1", "reminder.complaints_due", {"count": 2, "due": "2026-12-01"}, district=True)
    assert services.send_due() == 2  # the center's DingTalk and WeCom robots
    dingtalk = next(r for r in channels_on.received if r.path == "/robot/send")
    stamp, sign = dingtalk.query["timestamp"], dingtalk.query["sign"]
    assert dingtalk.query["access_token"] == "dt-center"
    expected = base64.b64encode(hmac.new(b"SEC-center-secret", f"{stamp}\nSEC-center-secret".encode(),
                                         hashlib.sha256).digest()).decode()
    assert sign == expected  # parse_qsl decoded the URL-encoding
    assert abs(int(stamp) - int(timezone.now().timestamp() * 1000)) < 60_000
    text = "【清廉金融】有 2 件投诉举报将于 2026-12-01 前到期，请及时办理。"
    assert dingtalk.body == {"msgtype": "text", "text": {"content": text}}
    wecom = next(r for r in channels_on.received if r.path == "/cgi-bin/webhook/send")
    assert wecom.query == {"key": "wc-center"} and wecom.body["msgtype"] == "text"


def test_the_signature_is_url_encoded():
    sign = rules.dingtalk_sign("SECabc", 1700000000000)
    raw = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert sign == raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")


def test_a_failing_gateway_is_retried_with_backoff_then_succeeds(channels_on):
    channels_on.answer((500, {}), (200, {"errcode": 310000, "errmsg": "sign not match"}), (200, {"errcode": 0}))
    services.notify("t:retry", "reminder.complaints_due", {"count": 1, "due": "2026-12-01"},
                    targets=[services.Target("dingtalk", settings_url(channels_on), "x", "SECx")])
    assert services.send_due() == 0
    message = Message.objects.get()
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "网关返回 HTTP 500")
    assert message.not_before > timezone.now() + timedelta(seconds=50)
    assert services.send_due() == 0  # not due yet
    assert services.send_due(now=later(2)) == 0
    message.refresh_from_db()
    assert message.attempts == 2 and "310000" in message.last_error and "sign not match" in message.last_error
    assert services.send_due(now=later(10)) == 1
    message.refresh_from_db()
    assert message.status == "sent" and message.attempts == 3 and len(channels_on.received) == 3


def settings_url(gateway):
    return f"{gateway.url}/robot/send?access_token=inst"


def test_failure_after_max_attempts_is_shown_to_the_administrator(channels_on):
    channels_on.answer((503, {}))
    services.notify_phone("t:fail", "complaints.result", {"received": "2026-11-02"}, "13900139000")
    for minutes in (0, 5, 30, 120):
        services.send_due(now=later(minutes))
    message = Message.objects.get()
    assert (message.status, message.attempts) == ("failed", 3) and "503" in message.last_error
    admin = UserFactory(username="root17", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/notifications/message/?status=failed").content.decode()
    assert "发送失败" in page and "HTTP 503" in page and "139****9000" in page and "13900139000" not in page
    assert services.retry_now(Message.objects.all()) == 1
    channels_on.answer((200, {"code": 0}))
    assert services.send_due() == 1


def test_unreachable_gateway_is_a_failure_not_a_crash(channels_on, settings):
    settings.NOTIFY_SMS_URL = "http://127.0.0.1:1/sms"
    services.notify_phone("t:down", "complaints.result", {"received": "2026-11-02"}, "13800138000")
    assert services.send_due() == 0
    assert "无法连接网关" in Message.objects.get().last_error


def test_quiet_hours_hold_sms_and_robots_but_not_mail(channels_on, settings):
    settings.NOTIFY_QUIET_HOURS = "22:00-07:30"
    user = UserFactory(username="u_mail", email="u@example.invalid")
    services.notify_phone("t:quiet", "complaints.result", {"received": "2026-11-02"}, "13800138000")
    services.notify("t:quiet", "reminder.complaints_due", {"count": 1, "due": "x"}, users=[user])
    # Tomorrow night and the morning after (a fixed date became the past: the messages, due from their
    # creation, were not due yet at a night before it).
    tomorrow = timezone.localdate() + timedelta(days=1)
    night = datetime.combine(tomorrow, datetime.min.time(), SHANGHAI).replace(hour=23, minute=15)
    morning = night.replace(hour=7, minute=30) + timedelta(days=1)
    assert services.send_due(now=night) == 1  # the mail went to core.outbox
    assert OutgoingMail.objects.get().recipients == ["u@example.invalid"]
    sms = Message.objects.get(channel="sms")
    assert sms.status == "pending" and sms.deferred == "免打扰时段"
    assert timezone.localtime(sms.not_before) == morning
    assert channels_on.received == []
    assert services.send_due(now=morning + timedelta(minutes=1)) == 1
    assert len(channels_on.received) == 1


@pytest.mark.parametrize(("now", "quiet", "until"), [
    ("23:00", "22:00-07:00", "07:00+1"), ("06:00", "22:00-07:00", "07:00"), ("12:00", "22:00-07:00", None),
    ("12:30", "12:00-13:00", "13:00"), ("13:00", "12:00-13:00", None), ("12:00", "", None),
])
def test_quiet_until(now, quiet, until):
    h, m = map(int, now.split(":"))
    moment = datetime(2026, 11, 30, h, m)
    got = rules.quiet_until(moment, rules.parse_quiet_hours(quiet))
    if until is None:
        assert got is None
    else:
        day = 1 if until.endswith("+1") else 0
        uh, um = map(int, until.removesuffix("+1").split(":"))
        assert got == datetime(2026, 11, 30, uh, um) + timedelta(days=day)


def test_rate_limit_per_recipient_and_hour(channels_on, settings):
    settings.NOTIFY_RATE_LIMIT_PER_HOUR = 2
    for n in range(3):
        services.notify_phone(f"t:rate:{n}", "complaints.result", {"received": f"2026-11-0{n + 1}"}, "13800138000")
    services.notify_phone("t:rate:other", "complaints.result", {"received": "2026-11-02"}, "13700137000")
    assert services.send_due() == 3
    held = Message.objects.get(status="pending")
    assert held.recipient == "13800138000" and held.deferred == "超过每小时发送上限"
    assert services.send_due(now=later(61)) == 1


def test_preferences_choose_channels_and_kinds(channels_on):
    bank = InstitutionFactory(code="N001", name="通知银行")
    services.save_preference(institution=bank, channels=["wecom", "sms"], phone="13600136000",
                             wecom_webhook=f"{channels_on.url}/cgi-bin/webhook/send?key=bank",
                             kinds_off=["reminder.alerts"])
    assert services.notify("t:pref", "warnings_feed.arrived", {"institution": bank.name}, institutions=[bank]) == 2
    assert services.notify("t:pref2", "reminder.alerts", {"institution": bank.name, "count": 1},
                           institutions=[bank]) == 0
    assert set(Message.objects.values_list("channel", flat=True)) == {"wecom", "sms"}
    # idempotent: the same key stores nothing more
    assert services.notify("t:pref", "warnings_feed.arrived", {"institution": bank.name}, institutions=[bank]) == 0
    with pytest.raises(DomainError):
        services.save_preference(institution=bank, channels=["fax"])
    with pytest.raises(DomainError):
        services.save_preference(institution=bank, phone="12345")


def test_a_channel_switched_off_is_never_used(channels_on, settings):
    settings.NOTIFY_CHANNELS = ["email"]
    assert services.notify_phone("t:off", "complaints.result", {"received": "2026-11-02"}, "13800138000") == 0
    assert services.notify("t:off", "reminder.complaints_due", {"count": 1, "due": "x"}, district=True) == 0


def test_templates_refuse_missing_fields():
    with pytest.raises(rules.TemplateError):
        rules.render("complaints.accepted", {"received": "2026-11-02"})
    with pytest.raises(rules.TemplateError):
        rules.render("no.such.kind", {})


@pytest.mark.django_db(transaction=True)
def test_parallel_senders_keep_the_hourly_limit_together(channels_on, settings):
    """Two senders, each holding another message to the same number: the second counts the first's
    send once it is committed (it waits for it) and defers its message; it used to send it too."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    settings.NOTIFY_RATE_LIMIT_PER_HOUR = 1
    for n in range(2):
        services.notify_phone(f"t:parallel:{n}", "complaints.result", {"received": f"2026-11-0{n + 1}"},
                              "13800138000")
    # Both waiting to be sent (creating them sent the first already: the task runs eagerly here).
    Message.objects.update(status="pending", sent_at=None, not_before=timezone.now(), deferred="")
    channels_on.received.clear()
    waited, outcome = crossing(lambda: services.send_due(limit=1), lambda: services.send_due(limit=1))
    assert waited and "first_error" not in outcome and outcome.get("value") == 0
    assert Message.objects.filter(status="sent").count() == 1
    assert len(channels_on.received) == 1
    assert Message.objects.get(status="pending").deferred == "超过每小时发送上限"
