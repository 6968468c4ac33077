"""The pages of tracked items of every kind: list, reply with evidence, return, accept, download."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tracking import services
from tracking.models import EvidenceFile, TrackedItem

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_reply_return_accept_on_pages(places):
    item = services.create_item(institution=places["a"], kind="complaint_referral", title="交办：营业厅服务投诉",
                                start=date(2026, 11, 2), working_days=10)
    other = services.create_item(institution=places["c"], kind="other", title="椒江事项", start=date(2026, 11, 2),
                                 working_days=10)
    filer = _client(places["filer_a"])
    listing = filer.get("/tracking/").content.decode()
    assert "交办：营业厅服务投诉" in listing and "椒江事项" not in listing
    filer.post(f"/tracking/{item.pk}/report/", {"measures": "已约谈当事员工",
                                                 "evidence": SimpleUploadedFile("约谈记录.pdf", b"%PDF-1.4 x")})
    assert TrackedItem.objects.get(pk=item.pk).status == "reported"
    fc = _client(places["fc"])
    fc.post(f"/tracking/{item.pk}/return/", {"reason": "请附整改照片", "rectify_within": "2"})
    assert TrackedItem.objects.get(pk=item.pk).status == "open"
    filer.post(f"/tracking/{item.pk}/report/", {"measures": "补充照片"})
    fc.post(f"/tracking/{item.pk}/accept/", {})
    assert TrackedItem.objects.get(pk=item.pk).status == "closed"
    page = fc.get(f"/tracking/{item.pk}/").content.decode()
    assert "退回重新整改" in page and "审核通过" in page
    evidence = EvidenceFile.objects.get()
    assert filer.get(f"/tracking/evidence/{evidence.pk}/").status_code == 200
    assert _client(places["filer_b"]).get(f"/tracking/evidence/{evidence.pk}/").status_code == 404
    assert _client(places["fc_jj"]).get(f"/tracking/{item.pk}/").status_code == 404
    assert filer.get(f"/tracking/{other.pk}/").status_code == 404


def test_refusals_leave_items_unchanged(places):
    item = services.create_item(institution=places["a"], kind="other", title="事项", start=date(2026, 11, 2),
                                working_days=10)
    assert _client(places["fc"]).post(f"/tracking/{item.pk}/report/", {"measures": "x"}).status_code == 403
    r = _client(places["fc"]).post(f"/tracking/{item.pk}/accept/", {})  # open: 409 shown as a message
    assert r.status_code == 302
    assert _client(places["filer_a"]).post(f"/tracking/{item.pk}/report/", {"measures": " "}).status_code == 302
    assert _client(places["filer_b"]).post(f"/tracking/{item.pk}/report/", {"measures": "x"}).status_code == 404
    item.refresh_from_db()
    assert item.status == "open" and not item.replies.exists()
