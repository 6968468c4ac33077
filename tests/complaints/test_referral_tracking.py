"""交办 as a tracked item (issue #13 item 1, issue #12 terms): `refer_institution` hands the case to
the institution as a 督办事项 with a reply due date in working days; the institution replies (with
evidence) on the tracking pages; the finance center accepts or returns the reply; the case cannot be
concluded until the reply is accepted."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from complaints.models import Complaint, ComplaintEvent
from tests.complaints.helpers import act, submit_case
from tests.conftest import client_for
from tests.factories import institution_user
from tracking.models import TrackedItem

pytestmark = pytest.mark.django_db
LIST = "/api/v1/complaints/"


@pytest.fixture
def on(monkeypatch):
    def travel(day: date) -> None:
        moment = timezone.make_aware(datetime(day.year, day.month, day.day, 10))
        monkeypatch.setattr(timezone, "now", lambda: moment)
    return travel


@pytest.fixture
def filer(bank):
    return institution_user(bank, "institution_filer", username="filer1")


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def action(client, case, name, **body):
    return client.post(f"{LIST}{case.pk}/actions/{name}/", body, format="json")


def state(case) -> tuple:
    case = Complaint.objects.get(pk=case.pk)
    return (case.status, case.outcome, case.reply_state, case.reply_due_on, case.version,
            ComplaintEvent.objects.filter(complaint=case).count())


def referred(on, fc, fc_api, bank, **body):
    on(date(2026, 9, 1))
    case, _ = submit_case(bank, kind="complaint", description="柜员张某推销理财时索要好处", anonymous=False,
                          contact_name="王小二", contact_phone="13812345678")
    act(case, "accept", fc)
    on(date(2026, 9, 25))
    resp = action(fc_api, case, "refer_institution", reply_within=10, **body)
    assert resp.status_code == 200
    return Complaint.objects.get(pk=case.pk), resp.json()


def test_the_hand_over_is_a_tracked_item_of_the_institution(on, fc, fc_api, bank):
    case, body = referred(on, fc, fc_api, bank, reason="请核查并约谈相关人员")
    item = TrackedItem.objects.get()
    assert (item.institution, item.kind, item.source_app, item.source_id) == (bank, "complaint_referral",
                                                                                "complaints", case.pk)
    # 10 working days from Fri 25 Sep 2026: 28-30 Sep, 8-10 Oct (Sat worked), 12-15 Oct.
    assert (item.working_days, item.due_on, item.status) == (10, date(2026, 10, 15), "open")
    assert "请核查并约谈相关人员" in item.detail
    # The institution learns of the case, never of the complainant nor of the text.
    for text in (item.title, item.detail):
        assert "王小二" not in text and "13812345678" not in text and "好处" not in text
    assert (case.reply_state, case.reply_due_on) == ("open", date(2026, 10, 15))
    assert body["reply_state"] == "open" and body["reply_state_label"] == "待机构回复"
    assert body["tracked_item"] == {"id": item.pk, "status": "open", "status_label": "待整改",
                                    "due_on": "2026-10-15"}
    assert body["next_due"]["key"] in ("decide", "institution_reply")
    assert body["deadlines"]["institution_reply"]["date"] == "2026-10-15"


def test_refused_hand_over_stores_no_tracked_item(fc, fc_api, bank):
    case, _ = submit_case(bank, kind="complaint")
    act(case, "accept", fc)
    assert action(fc_api, case, "refer_institution", reply_within=0).status_code == 400
    assert action(fc_api, case, "refer_institution", reply_within=99).status_code == 400
    assert not TrackedItem.objects.exists()
    assert Complaint.objects.get(pk=case.pk).status == "accepted"


def test_reply_review_then_conclusion(on, fc, fc_api, bank, head, filer):
    case, _ = referred(on, fc, fc_api, bank)
    item = TrackedItem.objects.get()
    # Not before the institution replies: 409, nothing stored.
    before = state(case)
    refused = action(fc_api, case, "conclude", outcome="substantiated")
    assert refused.status_code == 409 and "机构回复" in refused.json()["detail"]
    assert state(case) == before
    # The filer replies with evidence on the tracking page.
    on(date(2026, 10, 12))
    evidence = SimpleUploadedFile("约谈记录.pdf", b"%PDF-1.4 x", content_type="application/pdf")
    resp = page(filer).post(f"/tracking/{item.pk}/report/",
                            {"measures": "已约谈当事员工并退还费用", "evidence": evidence})
    assert resp.status_code in (200, 302)
    case.refresh_from_db()
    assert case.reply_state == "reported"
    event = ComplaintEvent.objects.filter(complaint=case, action="institution_reply").get()
    assert event.actor == filer and "已约谈当事员工" in event.reason
    assert "institution_reply" not in case.next_due_key  # the reply is in; the review is the center's
    before = state(case)
    refused = action(fc_api, case, "conclude", outcome="substantiated")
    assert refused.status_code == 409 and "审核" in refused.json()["detail"]
    assert state(case) == before
    # The finance center returns it with a new period: the case's reply due date follows.
    on(date(2026, 10, 13))
    resp = page(fc).post(f"/tracking/{item.pk}/return/", {"reason": "未附退费凭证", "rectify_within": "5"})
    assert resp.status_code in (200, 302)
    case.refresh_from_db()
    item.refresh_from_db()
    assert (case.reply_state, case.reply_due_on) == ("open", item.due_on) and item.due_on == date(2026, 10, 20)
    assert case.deadlines["institution_reply"]["date"] == "2026-10-20"
    assert ComplaintEvent.objects.filter(complaint=case, action="reply_returned").exists()
    # The head replies again; the finance center accepts (销号); now the case concludes and closes.
    page(head).post(f"/tracking/{item.pk}/report/", {"measures": "已补充退费凭证"})
    page(fc).post(f"/tracking/{item.pk}/accept/", {"note": "材料齐全"})
    case.refresh_from_db()
    assert case.reply_state == "accepted"
    assert ComplaintEvent.objects.filter(complaint=case, action="reply_accepted").exists()
    body = action(fc_api, case, "conclude", outcome="substantiated").json()
    assert body["status"] == "concluded"
    assert action(fc_api, case, "close", reply="经核实，已责令机构整改并退还费用。").json()["status"] == "closed"


def test_the_institution_and_only_it_sees_the_item(on, fc, fc_api, bank, other_bank, head, other_head):
    case, _ = referred(on, fc, fc_api, bank)
    item = TrackedItem.objects.get()
    assert page(head).get(f"/tracking/{item.pk}/").status_code == 200
    assert page(other_head).get(f"/tracking/{item.pk}/").status_code == 404
    assert client_for(other_head).get(f"{LIST}{case.pk}/").status_code == 404
    # Another institution's head may not reply: 404 and nothing changes.
    before = state(case)
    assert page(other_head).post(f"/tracking/{item.pk}/report/", {"measures": "冒充回复"}).status_code == 404
    assert state(case) == before and TrackedItem.objects.get().status == "open"


def test_the_staff_page_links_the_reply(on, fc, fc_api, bank, head):
    case, _ = referred(on, fc, fc_api, bank)
    item = TrackedItem.objects.get()
    html = page(fc).get(f"/complaints/{case.pk}/").content.decode()
    assert "待机构回复" in html and f"/tracking/{item.pk}/" in html and "2026-10-15" in html
    html = page(head).get(f"/complaints/{case.pk}/").content.decode()
    assert "报送办理情况" in html and f"/tracking/{item.pk}/" in html
