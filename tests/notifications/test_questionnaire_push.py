"""Questionnaire push (清廉码): an institution's uploaded list becomes one-time links sent by SMS (the
fake gateway); the list is kept encrypted, erased once sent, and the messages forget number and link."""

from __future__ import annotations

import pytest
from django.test import Client

from complaints.models import SurveyLink
from notifications import services
from notifications.models import Message, PushList
from tests.factories import InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db
CSV = "手机号,姓名\n13811112222,甲\n13933334444,乙\n138 1111 2222,甲（重复）\n".encode()


@pytest.fixture
def bank(db):
    return InstitutionFactory(code="QP01", name="问卷银行")


@pytest.fixture
def filer(bank):
    return institution_user(bank, "institution_filer", username="qp_filer")


def page(user):
    client = Client()
    client.force_login(user)
    return client


def upload(client, institution, content=CSV, name="list.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/notifications/questionnaire-push/",
                       {"institution": institution.code, "label": "十一月网点",
                        "file": SimpleUploadedFile(name, content, content_type="text/csv")}, follow=True)


def test_upload_sends_one_time_links_and_purges_the_list(channels_on, bank, filer, settings,
                                                         django_capture_on_commit_callbacks):
    settings.COMPLAINTS_PUBLIC_BASE_URL = "https://qlj.example.invalid"
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(page(filer), bank)
    assert "已收到 2 人的名单" in response.content.decode()
    push = PushList.objects.get()
    assert (push.count, push.status, push.phones_enc) == (2, "sent", "") and push.purged_at is not None
    assert SurveyLink.objects.filter(batch__institution=bank).count() == 2
    services.send_due()  # (the commit's kick already sent them, eagerly)
    assert Message.objects.filter(status="sent").count() == 2
    received = {r.body["phone"]: r.body["text"] for r in channels_on.received}
    assert set(received) == {"13811112222", "13933334444"}
    links = [text.split("请花一分钟评价：")[1].split("（")[0] for text in received.values()]
    assert all(link.startswith("https://qlj.example.invalid/") for link in links) and len(set(links)) == 2
    # the outbox forgot numbers and links once sent
    for message in Message.objects.all():
        assert "1381111" not in message.recipient and "qlj.example" not in message.body
    # the link works once (a GET shows the questionnaire)
    path = links[0].removeprefix("https://qlj.example.invalid")
    assert Client().get(path).status_code == 200


def test_the_list_is_stored_encrypted_until_sent(channels_on, bank, filer):
    upload(page(filer), bank)  # no commit callbacks: the send waits
    push = PushList.objects.get()
    assert push.status == "waiting" and push.phones_enc and "13811112222" not in push.phones_enc
    from complaints.survey_push import send_push_list

    assert send_push_list(push.pk) == 2
    assert send_push_list(push.pk) == 0  # once only
    push.refresh_from_db()
    assert push.phones_enc == "" and push.status == "sent"


@pytest.mark.parametrize(("content", "name", "message"), [
    ("手机号\n12345\n".encode(), "list.csv", "第 2 行：手机号「12345」格式不正确"),
    ("电话\n13811112222\n".encode(), "list.csv", "缺少列：手机号"),
    (b"whatever", "list.pdf", "不支持的文件类型"),
    ("手机号\n".encode(), "list.csv", "没有手机号"),
])
def test_bad_lists_are_refused_and_nothing_is_stored(channels_on, bank, filer, content, name, message):
    response = upload(page(filer), bank, content, name)
    assert message in response.content.decode()
    assert not PushList.objects.exists() and not SurveyLink.objects.exists()


def test_only_the_institution_s_filers_and_heads_push(channels_on, bank):
    other = InstitutionFactory(code="QP02", name="别家银行")
    stranger = institution_user(other, "institution_filer", username="qp_other")
    assert upload(page(stranger), bank).status_code == 404
    employee = institution_user(bank, "employee", username="qp_emp")
    assert upload(page(employee), bank).status_code == 404
    assert not PushList.objects.exists()


def test_the_page_shows_preferences_and_delivery_failures(channels_on, bank):
    head = institution_user(bank, "institution_head", username="qp_head")
    client = page(head)
    response = client.post(f"/notifications/institutions/{bank.code}/", {
        "channels": ["wecom"], "wecom_webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k1"})
    assert response.status_code == 302
    pref = bank.notification_preference
    assert pref.channels == ["wecom"] and pref.wecom_webhook.endswith("key=k1")
    # a failed delivery to the institution's robot is shown on its page
    pref.wecom_webhook = f"{channels_on.url}/cgi-bin/webhook/send?key=k1"
    pref.save()
    channels_on.answer((200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    services.notify("t:page", "warnings_feed.arrived", {"institution": bank.name}, institutions=[bank])
    services.send_due()
    html = client.get("/notifications/").content.decode()
    assert "重试中" in html and "93000" in html and "qyapi" not in html.split("recent-messages")[1]
    assert client.post(f"/notifications/institutions/{bank.code}/", {"wecom_webhook": "http://x"}).status_code == 302
    bank.notification_preference.refresh_from_db()
    other_head = institution_user(InstitutionFactory(code="QP03"), "institution_head", username="qp_head2")
    assert page(other_head).post(f"/notifications/institutions/{bank.code}/", {}).status_code == 404


def test_a_user_sets_their_own_phone(channels_on):
    user = UserFactory(username="qp_user")
    client = page(user)
    client.post("/notifications/mine/", {"channels": ["sms"], "phone": "13712345678"})
    assert user.notification_preference.phone == "13712345678"
    response = client.post("/notifications/mine/", {"channels": ["sms"], "phone": "123"}, follow=True)
    assert "手机号格式不正确" in response.content.decode()


# --- by WeCom: the institution's WeCom app to each person's WeCom account (issue #17) ---------------

WECOM_CSV = "企业微信账号,备注\nzhangwei01,甲\nLiNa.02,乙\nzhangwei01,甲（重复）\n".encode()


def wecom_upload(client, institution, content=WECOM_CSV):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/notifications/questionnaire-push/",
                       {"institution": institution.code, "label": "企业客户", "channel": "wecom_app",
                        "file": SimpleUploadedFile("list.csv", content, content_type="text/csv")}, follow=True)


@pytest.fixture
def wecom_on(channels_on, settings):
    settings.NOTIFY_CHANNELS = [*settings.NOTIFY_CHANNELS, "wecom_app"]
    settings.NOTIFY_WECOM_API = channels_on.url
    return channels_on


def configure_app(bank, corp="ww-qp-1", secret="app-secret-1"):
    head = institution_user(bank, "institution_head", username=f"qp_head_{corp}")
    response = page(head).post(f"/notifications/institutions/{bank.code}/", {
        "wecom_corp_id": corp, "wecom_agent_id": "1000002", "wecom_app_secret": secret})
    assert response.status_code == 302
    return head


def test_a_wecom_list_reaches_each_person_through_the_institution_s_app(wecom_on, bank, filer, settings,
                                                                        django_capture_on_commit_callbacks):
    settings.COMPLAINTS_PUBLIC_BASE_URL = "https://qlj.example.invalid"
    head = configure_app(bank)
    assert bank.notification_preference.wecom_app_secret == "app-secret-1"
    assert "app-secret-1" not in page(head).get("/notifications/").content.decode()  # never shown again
    with django_capture_on_commit_callbacks(execute=True):
        response = wecom_upload(page(filer), bank)
    assert "已收到 2 人的名单，问卷链接将通过企业微信发送" in response.content.decode()
    push = PushList.objects.get()
    assert (push.channel, push.count, push.status, push.phones_enc) == ("wecom_app", 2, "sent", "")
    services.send_due()
    # one token for the app (cached), then one message per person
    assert [(g.path, g.query) for g in wecom_on.gets] == [
        ("/cgi-bin/gettoken", {"corpid": "ww-qp-1", "corpsecret": "app-secret-1"})]
    sends = [r for r in wecom_on.received if r.path == "/cgi-bin/message/send"]
    assert {r.query["access_token"] for r in sends} == {"wecom-token-1"}
    assert {r.body["touser"] for r in sends} == {"zhangwei01", "LiNa.02"}
    assert all(r.body["agentid"] == 1000002 and r.body["msgtype"] == "text" for r in sends)
    links = {r.body["text"]["content"].split("请花一分钟评价：")[1].split("（")[0] for r in sends}
    assert len(links) == 2 and all(link.startswith("https://qlj.example.invalid/") for link in links)
    assert SurveyLink.objects.filter(batch__institution=bank).count() == 2
    # the outbox forgot the accounts and links once sent
    for message in Message.objects.filter(kind="questionnaire.link"):
        assert message.status == "sent" and "zhangwei" not in message.recipient and "qlj.example" not in message.body


def test_wecom_rejections_and_expired_tokens_are_retried_and_shown(wecom_on, bank, filer, settings):
    from datetime import timedelta

    from django.utils import timezone

    from complaints.survey_push import send_push_list

    configure_app(bank, corp="ww-qp-2")
    wecom_upload(page(filer), bank, "企业微信账号\nzhangwei01\n".encode())
    assert send_push_list(PushList.objects.get().pk) == 1
    wecom_on.answer((200, {"errcode": 42001, "errmsg": "access_token expired"}), (200, {"errcode": 0}))
    wecom_on.get_answers = [(200, {"errcode": 0, "access_token": "old", "expires_in": 7200}),
                            (200, {"errcode": 0, "access_token": "new", "expires_in": 7200})]
    assert services.send_due() == 0
    message = Message.objects.get(kind="questionnaire.link")
    assert message.status == "pending" and "42001" in message.last_error
    assert services.send_due(now=timezone.now() + timedelta(minutes=5)) == 1
    assert [r.query["access_token"] for r in wecom_on.received] == ["old", "new"]  # a new token after expiry
    assert len(wecom_on.gets) == 2


def test_a_wecom_list_needs_the_app_and_the_column(wecom_on, bank, filer):
    response = wecom_upload(page(filer), bank)  # no WeCom app configured
    assert "未配置企业微信应用" in response.content.decode() and not PushList.objects.exists()
    configure_app(bank, corp="ww-qp-3")
    response = wecom_upload(page(filer), bank, CSV)  # a phone list sent as a WeCom list
    assert "缺少列：企业微信账号" in response.content.decode() and not PushList.objects.exists()
    response = wecom_upload(page(filer), bank, "企业微信账号\n张 伟\n".encode())
    assert "第 2 行：企业微信账号「张 伟」格式不正确" in response.content.decode()
    assert not PushList.objects.exists() and not SurveyLink.objects.exists()
