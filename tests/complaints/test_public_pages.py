"""The public pages as a phone browser without JavaScript uses them: plain forms and links."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from complaints import services
from complaints.models import Complaint, EvidenceImage
from tests.complaints.helpers import act, make_image, submit_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def csrf_post(client, url, data, **extra):
    """GET the page first (as a browser does) and POST the form back with its CSRF token."""
    page = client.get(url)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.content).group(1).decode()
    form_token = re.search(rb'name="token" value="([^"]+)"', page.content)
    payload = {"csrfmiddlewaretoken": token, **data}
    if form_token and "token" not in data:
        payload["token"] = form_token.group(1).decode()
    return client.post(url, payload, **extra)


def form_url(institution):
    return f"/q/{institution.public_code}/"


def test_form_page_names_the_institution_and_works_without_js(browser, bank):
    resp = browser.get(form_url(bank))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert bank.name in html and "一码举报" in html
    assert '<meta name="viewport"' in html
    assert "<script" not in html  # the form needs no JavaScript at all
    assert 'enctype="multipart/form-data"' in html and 'name="csrfmiddlewaretoken"' in html
    for value in ("rating", "suggestion", "complaint", "report"):
        assert f'value="{value}"' in html
    assert "个人信息处理说明" in html
    assert len(resp.content) < 20_000  # small page weight (CSS is one small cached file)
    assert "default-src 'self'" in resp["Content-Security-Policy"]


def test_submit_form_shows_receipt_once(browser, bank, jpeg_with_gps):
    resp = csrf_post(browser, form_url(bank), {
        "kind": "report", "description": "柜员收红包", "staff_name": "张某", "anonymous": "1",
        "images": [SimpleUploadedFile("p.jpg", jpeg_with_gps, "image/jpeg")]})
    assert resp.status_code == 200
    html = resp.content.decode()
    code = re.search(r'id="receipt-code">([0-9A-Z-]+)<', html).group(1)
    assert len(code.replace("-", "")) == 20
    assert resp["Cache-Control"].startswith("no-store") or "no-store" in resp["Cache-Control"]
    case = Complaint.objects.get()
    assert case.channel == "form" and EvidenceImage.objects.filter(complaint=case).count() == 1
    # Re-sending the same form (refresh) does not create a second case.
    again = browser.post(form_url(bank), {"csrfmiddlewaretoken": browser.cookies["csrftoken"].value,
                                          "kind": "report", "description": "柜员收红包", "anonymous": "1",
                                          "token": re.search(r'name="token" value="([^"]+)"',
                                                             browser.get(form_url(bank)).content.decode()).group(1)})
    assert again.status_code == 200  # a fresh token from a new page load is a new submission
    assert Complaint.objects.count() == 2


def test_duplicate_token_does_not_create_a_second_case(browser, bank):
    page = browser.get(form_url(bank)).content.decode()
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    data = {"kind": "report", "description": "x", "anonymous": "1", "token": token,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"].value}
    assert browser.post(form_url(bank), data).status_code == 200
    resp = browser.post(form_url(bank), data)
    assert resp.status_code == 409 and "已经提交成功" in resp.content.decode()
    assert Complaint.objects.count() == 1


def test_receipt_image_download(browser, bank):
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "x", "anonymous": "1"})
    image_token = re.search(rb'name="t" value="([^"]+)"', resp.content).group(1).decode()
    png = browser.post("/q/receipt.png", {"t": image_token, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    tampered = browser.post("/q/receipt.png", {"t": image_token[:-4] + "AAAA",
                                               "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert tampered.status_code == 404


def test_form_errors_are_clear_and_store_nothing(browser, bank):
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "", "anonymous": "0",
                                               "contact_name": "", "contact_phone": "123"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "投诉、举报请填写反映内容" in html
    assert "手机号码" in html and "实名反映请填写姓名" in html and "个人信息处理说明" in html
    assert Complaint.objects.count() == 0


def test_named_form_requires_consent(browser, bank):
    data = {"kind": "complaint", "description": "乱收费", "anonymous": "0", "contact_name": "李四",
            "contact_phone": "13912345678"}
    resp = csrf_post(browser, form_url(bank), data)
    assert resp.status_code == 400 and "同意" in resp.content.decode()
    assert Complaint.objects.count() == 0
    resp = csrf_post(Client(enforce_csrf_checks=True), form_url(bank), {**data, "consent": "1"})
    assert resp.status_code == 200 and Complaint.objects.get().anonymous is False


def test_forged_oversized_and_four_images_refused_on_the_form(browser, bank):
    script = SimpleUploadedFile("evil.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg")
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "x", "anonymous": "1",
                                               "images": [script]})
    assert resp.status_code == 400 and "evil.jpg" in resp.content.decode()
    big = SimpleUploadedFile("big.jpg", make_image() + b"\0" * (5 * 1024 * 1024 + 1), "image/jpeg")
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "x", "anonymous": "1",
                                               "images": [big]})
    assert resp.status_code == 400 and "5MB" in resp.content.decode()
    four = [SimpleUploadedFile(f"{n}.jpg", make_image(), "image/jpeg") for n in range(4)]
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "x", "anonymous": "1",
                                               "images": four})
    assert resp.status_code == 400 and "最多上传3张" in resp.content.decode()
    assert Complaint.objects.count() == 0 and EvidenceImage.objects.count() == 0


def test_csrf_is_enforced(browser, bank):
    resp = browser.post(form_url(bank), {"kind": "report", "description": "x", "anonymous": "1"})
    assert resp.status_code == 403 and Complaint.objects.count() == 0


def test_honeypot_stores_nothing(browser, bank):
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "x", "anonymous": "1",
                                               "website": "http://spam.example"})
    assert resp.status_code == 400 and Complaint.objects.count() == 0


def test_rate_limit_shows_friendly_429(browser, bank, settings):
    settings.COMPLAINTS_RATE_SUBMIT_CODE = "1/h"
    assert csrf_post(browser, form_url(bank), {"kind": "report", "description": "x", "anonymous": "1"}
                     ).status_code == 200
    resp = csrf_post(browser, form_url(bank), {"kind": "report", "description": "y", "anonymous": "1"})
    assert resp.status_code == 429 and "请稍后再试" in resp.content.decode()
    assert Complaint.objects.count() == 1


def test_unknown_code_friendly_404(browser, db):
    resp = browser.get("/q/not-a-real-code/")
    assert resp.status_code == 404 and "未找到该二维码" in resp.content.decode()


def test_replaced_code_names_the_institution(browser, bank):
    old = bank.public_code
    new = services.regenerate_public_code(bank)
    resp = browser.get(f"/q/{old}/")
    assert resp.status_code == 410
    html = resp.content.decode()
    assert "已更换" in html and bank.name in html
    assert browser.get(f"/q/{new}/").status_code == 200
    # Submitting to the old code stores nothing.
    resp = browser.post(f"/q/{old}/", {"kind": "report", "description": "x"})
    assert resp.status_code in (403, 410) and Complaint.objects.count() == 0


def test_tracking_page_shows_status_and_reply_escaped(browser, bank, fc):
    evil = '<script>alert("x")</script>'
    case, code = submit_case(bank, kind="report", description=evil)
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    act(case, "close", fc, reply=f"已处理 {evil}")
    services.add_note(case, fc, "内部意见不公开")
    assert browser.get("/q/track/").status_code == 200
    resp = csrf_post(browser, "/q/track/", {"code": code.lower()})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "已办结" in html and "属实" in html
    assert "&lt;script&gt;" in html and evil not in html
    assert "内部意见不公开" not in html


def test_tracking_wrong_code_404_and_rate_limited(browser, bank, settings):
    settings.COMPLAINTS_RATE_TRACK_IP = "2/h"
    first = csrf_post(browser, "/q/track/", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE"})
    assert first.status_code == 404 and "未找到" in first.content.decode()
    assert csrf_post(browser, "/q/track/", {"code": "AAAA"}).status_code == 404
    resp = csrf_post(browser, "/q/track/", {"code": "AAAA"})
    assert resp.status_code == 429 and "请稍后再试" in resp.content.decode()


def test_merged_case_tracks_the_target(browser, bank, fc):
    first, code = submit_case(bank, kind="suggestion", description="增加老年人窗口")
    second, _ = submit_case(bank, kind="suggestion", description="增加老年人窗口！")
    act(first, "merge", fc, target=second.pk)
    act(second, "accept", fc)
    html = csrf_post(browser, "/q/track/", {"code": code}).content.decode()
    assert "合并办理" in html and "已受理" in html


def test_qr_images(browser, bank):
    svg = browser.get(f"/q/{bank.public_code}/qr.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = browser.get(f"/q/{bank.public_code}/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert browser.get(f"/q/{bank.public_code}/qr.gif").status_code == 404
    assert browser.get("/q/unknown/qr.svg").status_code == 404


def test_qr_encodes_the_form_url(browser, bank, settings):
    settings.COMPLAINTS_PUBLIC_BASE_URL = "https://qlj.example.gov.cn"
    from complaints import qr

    assert qr.public_url(bank.public_code) == f"https://qlj.example.gov.cn/q/{bank.public_code}/"


@pytest.mark.django_db(transaction=True)
def test_duplicate_token_outside_a_transaction(reference_data):
    """The production path: a text-only case is one autocommitted INSERT; a re-sent form is refused."""
    from complaints import services
    from tests.factories import InstitutionFactory

    bank = InstitutionFactory(code="DUP-01")
    sub = services.Submission(institution=bank, kind="report", description="x", submission_token="tok-1")
    services.submit(sub)
    with pytest.raises(services.DuplicateSubmission):
        services.submit(sub)
    assert Complaint.objects.count() == 1
