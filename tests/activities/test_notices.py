"""Notices, read receipts, returns as tracked items (submit → return → resubmit → accept), campaigns."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities import selectors, services
from activities.models import Campaign, Notice, NoticeRecipient
from core.models import OutgoingMail
from tracking.models import TrackedItem

from .conftest import client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _publish(w, client=None, **extra):
    data = {"title": "关于开展吃拿卡要专项治理的通知", "body": "请各机构自查并报送。", "audience": "district",
            "return_kind": "form", "return_within": 5, "return_instructions": "报送自查情况",
            "district": "331004", **extra}
    return (client or client_for(w.fc)).post("/activities/notices/", data)


def test_publish_read_return_cycle(w):
    r = _publish(w, attachments=[SimpleUploadedFile("方案.pdf", PDF)])
    notice = Notice.objects.get()
    assert r.status_code == 302 and notice.return_due_on > dt.date.today()
    recipients = {r.institution.code: r for r in notice.recipients.select_related("institution")}
    assert set(recipients) == {"A001", "B001"}  # the district's institutions, not 椒江's
    items = TrackedItem.objects.filter(source_app="activities")
    assert items.count() == 2 and {i.kind for i in items} == {"campaign_return"}
    mine = recipients["A001"]
    mine.refresh_from_db()
    assert mine.tracked_item.due_on == notice.return_due_on == mine.due_on
    assert OutgoingMail.objects.filter(kind="activities.notice").count() == 2

    filer = client_for(w.filer)
    page = filer.get(f"/activities/notices/{notice.pk}/").content.decode()
    assert "报送自查情况" in page and "方案.pdf" in page
    mine.refresh_from_db()
    assert mine.read_at is not None and mine.read_by == w.filer
    assert NoticeRecipient.objects.get(pk=recipients["B001"].pk).read_at is None

    assert filer.post(f"/activities/returns/{mine.pk}/submit/", {"text": ""}).status_code == 302
    mine.refresh_from_db()
    assert mine.return_status == "pending"  # a form return needs its text
    assert filer.post(f"/activities/returns/{mine.pk}/submit/", {"text": "已自查，无问题"}).status_code == 302
    mine.refresh_from_db()
    assert mine.return_status == "submitted" and mine.tracked_item.status == "reported"
    # Submitting twice: 409 through the API.
    assert filer.post(f"/api/v1/returns/{mine.pk}/submit/", {"text": "再报"}, format="json").status_code == 409

    fc = client_for(w.fc)
    assert fc.post(f"/api/v1/returns/{mine.pk}/actions/return/", {"reason": ""}, format="json").status_code == 400
    r = fc.post(f"/api/v1/returns/{mine.pk}/actions/return/", {"reason": "请附整改台账", "working_days": 3},
                format="json")
    assert r.status_code == 200 and r.json()["status"] == "returned"
    mine.refresh_from_db()
    assert mine.decision_reason == "请附整改台账" and mine.tracked_item.status == "open"
    assert mine.due_on == mine.tracked_item.due_on
    r = filer.post(f"/api/v1/returns/{mine.pk}/submit/", {"text": "已补充台账"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "submitted"
    # The filer cannot decide; another district cannot see it.
    assert filer.post(f"/api/v1/returns/{mine.pk}/actions/accept/", format="json").status_code == 403
    assert client_for(w.fc_c).post(f"/api/v1/returns/{mine.pk}/actions/accept/", format="json").status_code == 404
    assert client_for(w.filer_b).get(f"/api/v1/returns/{mine.pk}/").status_code == 404
    r = fc.post(f"/api/v1/returns/{mine.pk}/actions/accept/", format="json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    assert fc.post(f"/api/v1/returns/{mine.pk}/actions/accept/", format="json").status_code == 409
    mine.refresh_from_db()
    assert mine.tracked_item.status == "closed"

    stats = selectors.notice_stats([notice.pk])[notice.pk]
    assert (stats.recipients, stats.read, stats.asked, stats.returned, stats.accepted) == (2, 1, 2, 1, 1)
    overview = fc.get(f"/activities/notices/{notice.pk}/").content.decode()
    assert "已读 1/2" in overview and "已通过 1" in overview


def test_late_returns_are_counted(w):
    _publish(w)
    notice = Notice.objects.get()
    a = notice.recipients.get(institution=w.a)
    services.submit_return(w.filer, a, "按时报送")
    later = notice.return_due_on + dt.timedelta(days=1)
    stats = selectors.notice_stats([notice.pk], today=later)[notice.pk]
    assert stats.late == 1  # B never returned and its due date has passed
    a.refresh_from_db()
    assert not selectors.is_late(a, today=later)
    b = notice.recipients.get(institution=w.b)
    assert selectors.is_late(b, today=later)


@pytest.mark.parametrize("extra", [
    {"return_within": ""},
    {"title": ""},
    {"audience": "category", "category": ""},
    {"audience": "institutions"},
    {"campaign": 999999},
])
def test_bad_notices_store_nothing(w, extra):
    r = _publish(w, **extra)
    assert r.status_code == 400
    assert not Notice.objects.exists() and not TrackedItem.objects.exists()


def test_attachment_checked_by_content(w):
    r = _publish(w, attachments=[SimpleUploadedFile("方案.pdf", b"MZ\x90\x00 not a pdf")])
    assert r.status_code == 400 and not Notice.objects.exists()


def test_only_the_finance_center_publishes_in_its_district(w):
    assert _publish(w, client=client_for(w.filer)).status_code == 403
    assert client_for(w.fc).post("/api/v1/notices/", {"title": "t", "body": "b", "district": "331002"},
                                 format="json").status_code == 404
    assert client_for(w.filer).post("/api/v1/notices/", {"title": "t", "body": "b"}, format="json").status_code == 403
    assert not Notice.objects.exists()


def test_audience_institutions_and_api_visibility(w):
    r = client_for(w.fc).post("/api/v1/notices/", {"title": "仅甲", "body": "正文", "audience": "institutions",
                                                   "institutions": ["A001"]}, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert client_for(w.filer).get(f"/api/v1/notices/{pk}/").status_code == 200
    assert client_for(w.filer_b).get(f"/api/v1/notices/{pk}/").status_code == 404
    assert client_for(w.fc_c).get(f"/api/v1/notices/{pk}/").status_code == 404
    assert NoticeRecipient.objects.get(notice_id=pk).read_at is not None
    assert client_for(w.fc).post("/api/v1/notices/", {"title": "丙", "body": "正文", "audience": "institutions",
                                                      "institutions": ["C001"]}, format="json").status_code == 400


def test_campaign_groups_notices(w):
    r = client_for(w.fc).post("/activities/campaigns/", {"title": "吃拿卡要专项治理", "kind": "governance",
                                                         "starts_on": "2026-03-01", "ends_on": "2026-06-30",
                                                         "district": "331004"})
    assert r.status_code == 302
    campaign = Campaign.objects.get()
    _publish(w, campaign=campaign.pk)
    notice = Notice.objects.get()
    services.submit_return(w.filer, notice.recipients.get(institution=w.a), "自查完毕")
    stats = selectors.campaign_stats(campaign)
    assert (stats.recipients, stats.asked, stats.returned) == (2, 2, 1)
    page = client_for(w.fc).get(f"/activities/campaigns/{campaign.pk}/").content.decode()
    assert "报送 1/2" in page
    mine = client_for(w.filer).get(f"/activities/campaigns/{campaign.pk}/").content.decode()
    assert "关于开展吃拿卡要专项治理的通知" in mine and "报送 1/2" not in mine  # the district's figures: fc only
    assert client_for(w.fc_c).get(f"/activities/campaigns/{campaign.pk}/").status_code == 404
    assert client_for(w.fc).post("/activities/campaigns/", {"title": "x", "kind": "governance",
                                                            "starts_on": "2026-07-01", "ends_on": "2026-06-30",
                                                            "district": "331004"}).status_code == 400
    assert Campaign.objects.count() == 1


def test_tracking_reminds_before_and_after_the_due_date(w):
    from tracking import services as tracking

    notice = services.publish_notice(w.fc, services.NoticeInput(title="提醒测试", body="正文", return_kind="form",
                                                                return_within=5))
    before = OutgoingMail.objects.count()
    tracking.send_reminders(today=notice.return_due_on - dt.timedelta(days=1))
    assert OutgoingMail.objects.count() > before  # due soon
    services.submit_return(w.filer, notice.recipients.get(institution=w.a), "已报送")
    sent = OutgoingMail.objects.count()
    tracking.send_reminders(today=notice.return_due_on + dt.timedelta(days=1))
    overdue = OutgoingMail.objects.filter(pk__gt=0).order_by("-pk")[: OutgoingMail.objects.count() - sent]
    recipients = {r for m in overdue for r in m.recipients}
    assert "filer_b@example.com" in recipients and "filer_a@example.com" not in recipients  # A has returned


def test_bad_api_input_names_the_field(w):
    r = client_for(w.fc).post("/api/v1/notices/", {"title": "  ", "body": "正文"}, format="json")
    assert r.status_code == 400 and "title" in r.json()
