"""Issue #11 item 4: a sealed original (the photo as uploaded, with GPS) is released only with a
reason, and logged like an identity reveal."""

import pytest
from django.test import Client

from complaints.images import process_image
from complaints.models import PiiReveal
from tests.complaints.helpers import submit_case

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def case_with_photo(bank, jpeg_with_gps):
    case, _ = submit_case(bank, images=[(process_image(jpeg_with_gps), jpeg_with_gps)])
    return case


def test_the_old_get_download_releases_nothing(fc, case_with_photo, jpeg_with_gps):
    resp = logged_in(fc).get(f"/complaints/{case_with_photo.pk}/images/1/", {"original": "1"})
    body = b"".join(resp.streaming_content)
    assert resp.status_code == 200 and body != jpeg_with_gps and b"SecretCam" not in body  # the working copy
    assert logged_in(fc).get(f"/complaints/{case_with_photo.pk}/images/1/original/").status_code == 405
    assert not PiiReveal.objects.exists()


def test_without_a_reason_it_is_refused_in_chinese(fc, case_with_photo):
    resp = logged_in(fc).post(f"/complaints/{case_with_photo.pk}/images/1/original/", {"reason": "  "})
    assert resp.status_code == 400 and "须填写理由" in resp.content.decode()
    assert not PiiReveal.objects.exists()


def test_with_a_reason_it_is_released_and_logged(fc, case_with_photo, jpeg_with_gps):
    resp = logged_in(fc).post(f"/complaints/{case_with_photo.pk}/images/1/original/", {"reason": "纪检调取证据原件"})
    assert resp.status_code == 200 and resp.content == jpeg_with_gps
    assert resp["Cache-Control"] == "private, no-store"
    reveal = PiiReveal.objects.get()
    assert (reveal.complaint_id, reveal.user, reveal.reason, reveal.image_position) == (
        case_with_photo.pk, fc, "纪检调取证据原件", 1)


def test_only_the_finance_center_gets_it(head, discipline, case_with_photo):
    for user in (head, discipline):
        resp = logged_in(user).post(f"/complaints/{case_with_photo.pk}/images/1/original/", {"reason": "想看"})
        assert resp.status_code in (403, 404)
    assert not PiiReveal.objects.exists()


def test_the_detail_page_asks_for_a_reason(fc, case_with_photo):
    page = logged_in(fc).get(f"/complaints/{case_with_photo.pk}/").content.decode()
    assert f'action="/complaints/{case_with_photo.pk}/images/1/original/"' in page and "?original=1" not in page
