"""The public API as a client uses it: POST /api/v1/public/complaints/ and GET …/{receipt_code}/."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from complaints import services
from complaints.crypto import hash_secret, normalize_receipt_code
from complaints.models import Complaint, EvidenceImage, Notification
from tests.complaints.helpers import act, make_image

pytestmark = pytest.mark.django_db
URL = "/api/v1/public/complaints/"


def post_json(api, payload):
    return api.post(URL, payload, format="json")


def test_submit_json_by_public_code(api, bank):
    resp = post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "柜员索要红包",
                           "staff_name": "张某", "anonymous": True})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert set(body) >= {"receipt_code", "status", "received_at"}
    assert body["status"] == "received"
    code = normalize_receipt_code(body["receipt_code"])
    # At least 80 bits: 20 symbols of a 32-symbol alphabet = 100 bits.
    assert len(code) == 20 and re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{20}", code)
    case = Complaint.objects.get()
    assert case.institution == bank and case.kind == "report" and case.channel == "api"
    # Only the hash of the receipt code is stored, nowhere the code itself.
    assert case.receipt_hash == hash_secret(code, "receipt")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM complaints_complaint")
        row = " ".join(str(v) for v in cursor.fetchone())
    assert code not in row and body["receipt_code"] not in row
    # A report has its deadlines from receipt, and the finance center is notified (outbox).
    # (the conclusion runs from acceptance, forwarding from the day a party member is identified).
    assert set(case.deadlines) == {"accept"}
    assert case.next_due_key == "accept"
    assert case.staff_notified_at is None  # waits for the next new-case digest (the outbox)


def test_submit_by_institution_code_and_ratings(api, bank):
    resp = post_json(api, {"institution_code": bank.code, "kind": "rating",
                           "ratings": {"attitude": 5, "efficiency": 4, "integrity": 5}, "anonymous": True})
    assert resp.status_code == 201, resp.content
    case = Complaint.objects.get()
    assert case.ratings == {"attitude": 5, "efficiency": 4, "integrity": 5}
    assert case.deadlines == {} and case.next_due_on is None
    assert not Notification.objects.exists() and case.staff_notified_at  # ratings feed statistics only


def test_named_submission_encrypts_pii_in_the_row(api, bank):
    resp = post_json(api, {"public_code": bank.public_code, "kind": "complaint", "description": "乱收费",
                           "anonymous": False, "contact_name": "黄小明", "contact_phone": "138-1234-5678"})
    assert resp.status_code == 201, resp.content
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_name_enc, contact_phone_enc, description FROM complaints_complaint")
        name_enc, phone_enc, description = cursor.fetchone()
    assert description == "乱收费"
    assert "黄小明" not in name_enc and "小明" not in name_enc
    assert "13812345678" not in phone_enc and "5678" not in phone_enc
    case = Complaint.objects.get()
    identity = services.masked_identity(case)
    assert identity.name == "黄某" and identity.phone == "138****5678"
    assert set(case.deadlines) >= {"decide", "notify_acceptance"}


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "report", "description": ""}, "description"),
    ({"kind": "bribe", "description": "x"}, "kind"),
    ({"kind": "complaint", "description": "x" * 2001}, "description"),
    ({"kind": "rating"}, "ratings"),
    ({"kind": "rating", "ratings": {"attitude": 9}}, "ratings"),
    ({"kind": "complaint", "description": "x", "anonymous": False, "contact_name": "王五",
      "contact_phone": "12345"}, "contact_phone"),
    ({"kind": "complaint", "description": "x", "anonymous": False, "contact_phone": "13812345678"},
     "contact_name"),
    ({"kind": "complaint", "description": "x", "occurred_on": "2099-01-01"}, "occurred_on"),
    ({"kind": "complaint", "description": "x", "staff_name": "名" * 51}, "staff_name"),
])
def test_bad_input_is_400_per_field_and_stores_nothing(api, bank, payload, field):
    resp = post_json(api, {"public_code": bank.public_code, **payload})
    assert resp.status_code == 400
    body = resp.json()
    assert field in body and body[field][0]
    assert Complaint.objects.count() == 0 and Notification.objects.count() == 0


def test_unknown_public_code_stores_nothing(api, bank):
    resp = post_json(api, {"public_code": "no-such-code", "kind": "report", "description": "x"})
    assert resp.status_code == 400
    assert "未找到" in resp.json()["public_code"][0]
    resp = post_json(api, {"institution_code": "NOPE", "kind": "report", "description": "x"})
    assert resp.status_code == 400 and "institution_code" in resp.json()
    resp = post_json(api, {"kind": "report", "description": "x"})
    assert resp.status_code == 400
    assert Complaint.objects.count() == 0


def test_retired_code_refused_with_institution_name(api, bank):
    old = bank.public_code
    services.regenerate_public_code(bank)
    resp = post_json(api, {"public_code": old, "kind": "report", "description": "x"})
    assert resp.status_code == 400 and bank.name in resp.json()["public_code"][0]
    assert Complaint.objects.count() == 0


def test_inactive_institution_refused(api, bank):
    bank.is_active = False
    bank.save()
    resp = post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "x"})
    assert resp.status_code == 400 and Complaint.objects.count() == 0


def _upload(name, data, content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_multipart_with_images_strips_exif_and_seals_original(api, bank, jpeg_with_gps, settings):
    png = make_image("PNG")
    resp = api.post(URL, {"public_code": bank.public_code, "kind": "report", "description": "收红包",
                          "ratings": '{"integrity": 1}', "anonymous": "true",
                          "images": [_upload("a.jpg", jpeg_with_gps), _upload("b.png", png, "image/png")]},
                    format="multipart")
    assert resp.status_code == 201, resp.content
    case = Complaint.objects.get()
    assert case.rating_integrity == 1
    images = list(EvidenceImage.objects.filter(complaint=case).order_by("position"))
    assert [i.content_type for i in images] == ["image/jpeg", "image/png"]
    first = images[0]
    with first.working.open("rb") as handle:
        working = handle.read()
    stored = Image.open(io.BytesIO(working))
    assert not stored.getexif(), "EXIF (incl. GPS) must be gone from the working copy"
    assert b"SecretCam" not in working
    # The original is sealed: encrypted on disk, with its SHA-256 recorded.
    import hashlib

    assert first.original_sha256 == hashlib.sha256(jpeg_with_gps).hexdigest()
    with first.sealed_original.open("rb") as handle:
        sealed = handle.read()
    assert b"SecretCam" not in sealed and jpeg_with_gps not in sealed
    from complaints.crypto import decrypt_bytes

    assert decrypt_bytes(sealed) == jpeg_with_gps
    # Evidence is stored outside MEDIA_ROOT (which may be served publicly).
    assert str(settings.MEDIA_ROOT) not in first.working.path


def test_forged_image_is_refused(api, bank):
    script = b"#!/bin/sh\nrm -rf / --no-preserve-root\n"
    resp = api.post(URL, {"public_code": bank.public_code, "kind": "report", "description": "x",
                          "images": [_upload("photo.jpg", script)]}, format="multipart")
    assert resp.status_code == 400
    assert "photo.jpg" in resp.json()["images"][0]
    assert Complaint.objects.count() == 0 and EvidenceImage.objects.count() == 0


def test_gif_is_refused_even_if_named_jpg(api, bank):
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    resp = api.post(URL, {"public_code": bank.public_code, "kind": "report", "description": "x",
                          "images": [_upload("x.jpg", gif.getvalue())]}, format="multipart")
    assert resp.status_code == 400 and Complaint.objects.count() == 0


def test_oversized_image_is_refused(api, bank):
    big = make_image("JPEG") + b"\0" * (5 * 1024 * 1024)
    resp = api.post(URL, {"public_code": bank.public_code, "kind": "report", "description": "x",
                          "images": [_upload("big.jpg", big)]}, format="multipart")
    assert resp.status_code == 400 and "5MB" in resp.json()["images"][0]
    assert Complaint.objects.count() == 0


def test_too_large_request_is_413(api, bank):
    resp = api.post(URL, b"x", content_type="application/json", CONTENT_LENGTH=str(17 * 1024 * 1024))
    assert resp.status_code == 413 and resp.json()["detail"]
    assert Complaint.objects.count() == 0


def test_four_images_are_refused(api, bank):
    files = [_upload(f"{n}.jpg", make_image()) for n in range(4)]
    resp = api.post(URL, {"public_code": bank.public_code, "kind": "report", "description": "x", "images": files},
                    format="multipart")
    assert resp.status_code == 400 and "3" in resp.json()["images"][0]
    assert Complaint.objects.count() == 0 and EvidenceImage.objects.count() == 0


def test_tracking_shows_status_and_public_replies_only(api, bank, fc):
    resp = post_json(api, {"public_code": bank.public_code, "kind": "complaint", "description": "乱收费",
                           "anonymous": False, "contact_name": "李四", "contact_phone": "13912345678"})
    code = resp.json()["receipt_code"]
    case = Complaint.objects.get()
    act(case, "accept", fc)
    services.add_note(case, fc, "内部：拟约谈支行行长", public=False)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    act(case, "close", fc, reply="经核查属实，已退还费用。")
    resp = api.get(f"{URL}{code}/")
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "closed" and body["outcome"] == "substantiated"
    assert [r["body"] for r in body["replies"]] == ["经核查属实，已退还费用。"]
    text = resp.content.decode()
    assert "内部" not in text and "李四" not in text and "13912345678" not in text and "fc" not in body
    assert [t["label"] for t in body["timeline"]][:2] == ["已接收", "已受理"]
    # Codes are forgiving about case and dashes.
    assert api.get(f"{URL}{code.lower().replace('-', '')}/").status_code == 200


def test_wrong_receipt_code_404_then_rate_limited(api, bank, settings):
    settings.COMPLAINTS_RATE_TRACK_IP = "3/h"  # an hour: no window boundary mid-test
    post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "x"})
    statuses = [api.get(f"{URL}ABCD-EFGH-JKMN-PQRS-TVWX/").status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert "频繁" in api.get(f"{URL}ABCD/").json()["detail"]


def test_other_case_never_shown(api, bank):
    first = post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "第一件"}).json()
    post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "第二件"})
    body = api.get(f"{URL}{first['receipt_code']}/").json()
    assert "第二件" not in str(body)


def test_submission_rate_limited_per_ip_and_per_code(api, bank, other_bank, settings):
    settings.COMPLAINTS_RATE_SUBMIT_CODE = "2/h"
    ok = [post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "x"}).status_code
          for _ in range(3)]
    assert ok == [201, 201, 429]
    assert Complaint.objects.count() == 2
    # Another code is not affected by the first code's limit...
    assert post_json(api, {"public_code": other_bank.public_code, "kind": "report",
                           "description": "x"}).status_code == 201
    assert Complaint.objects.count() == 3


def test_submission_rate_limited_per_ip_across_codes(api, bank, other_bank, settings):
    settings.COMPLAINTS_RATE_SUBMIT_IP = "2/h"
    assert post_json(api, {"public_code": bank.public_code, "kind": "report", "description": "x"}).status_code == 201
    assert post_json(api, {"public_code": other_bank.public_code, "kind": "report",
                           "description": "x"}).status_code == 201
    resp = post_json(api, {"public_code": other_bank.public_code, "kind": "report", "description": "x"})
    assert resp.status_code == 429 and "频繁" in resp.json()["detail"]
    assert Complaint.objects.count() == 2


def test_script_in_description_is_stored_verbatim_and_json_escaped(api, bank):
    evil = '<script>alert("x")</script>'
    resp = post_json(api, {"public_code": bank.public_code, "kind": "report", "description": evil})
    assert resp.status_code == 201
    assert Complaint.objects.get().description == evil


def test_openapi_schema_lists_complaint_endpoints(client):
    resp = client.get("/api/schema/")
    assert resp.status_code == 200
    text = resp.content.decode()
    for path in ("/api/v1/public/complaints/", "/api/v1/public/complaints/{receipt_code}/", "/api/v1/complaints/",
                 "/api/v1/complaints/{id}/actions/{action_name}/"):
        assert path in text


def test_rate_limit_by_proxy_header(api, bank, settings):
    settings.COMPLAINTS_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    settings.COMPLAINTS_RATE_SUBMIT_IP = "1/h"
    body = {"public_code": bank.public_code, "kind": "report", "description": "x"}
    assert api.post(URL, body, format="json", HTTP_X_REAL_IP="10.0.0.1").status_code == 201
    assert api.post(URL, body, format="json", HTTP_X_REAL_IP="10.0.0.2").status_code == 201
    assert api.post(URL, body, format="json", HTTP_X_REAL_IP="10.0.0.1").status_code == 429


def test_rate_limit_without_redis_uses_django_ratelimit(api, bank, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.COMPLAINTS_RATE_SUBMIT_CODE = "1/h"
    body = {"public_code": bank.public_code, "kind": "report", "description": "x"}
    assert [api.post(URL, body, format="json").status_code for _ in range(2)] == [201, 429]


def test_rate_parsing():
    from core.ratelimits import parse_rate

    assert parse_rate("30/h") == (30, 3600)
    assert parse_rate("5/10m") == (5, 600)
    assert parse_rate("20/m") == (20, 60)
    assert parse_rate("3/s") == (3, 1)
