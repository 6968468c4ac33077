import pytest
from django.test import Client

from warnings_feed.models import Delivery, Warning

pytestmark = pytest.mark.django_db

ADD = "/admin/warnings_feed/warning/add/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_finance_center_publishes_from_the_admin(org, django_capture_on_commit_callbacks):
    client = signed_in(org.finance)
    assert client.get(ADD).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(ADD, {
            "title": "关于黄小明违规的通报", "body": "正文", "case_type": "gifts", "severity": "high",
            "scope": "category", "district": org.a.district_id, "category": "bank", "institution": "",
            "names": "黄小明，欧阳娜娜", "publish_at_0": "2026-01-01", "publish_at_1": "08:00:00",
        })
    assert resp.status_code == 302, resp.content.decode()[:2000]
    warning = Warning.objects.get()
    assert warning.names == ["黄小明", "欧阳娜娜"] and warning.publisher == org.finance
    assert warning.issuer == "路桥区金融工作中心"
    assert set(Delivery.objects.values_list("employee__name", flat=True)) == {"甲员工", "甲同事", "丙员工"}
    page = client.get(f"/admin/warnings_feed/warning/{warning.pk}/change/").content.decode()
    assert "甲银行" in page and "丙银行" in page  # rates per institution on the page


def test_scope_must_match_its_target_in_the_admin(org):
    resp = signed_in(org.finance).post(ADD, {
        "title": "t", "body": "b", "case_type": "gifts", "severity": "high", "scope": "institution",
        "district": org.a.district_id, "category": "", "institution": "", "names": "",
        "publish_at_0": "2026-01-01", "publish_at_1": "08:00:00"})
    assert resp.status_code == 200 and not Warning.objects.exists()


def test_only_the_finance_center_has_the_warnings_admin(org):
    for user in (org.head_a,):
        client = signed_in(user)
        assert client.get("/admin/warnings_feed/warning/").status_code == 403
        assert client.get(ADD).status_code == 403


def test_an_institutions_warning_takes_its_district(org, django_capture_on_commit_callbacks):
    from institutions.models import District
    from institutions.services import grant_role

    grant_role(org.finance, "finance_center", District.objects.get(code="331002"))  # both districts offered
    with django_capture_on_commit_callbacks(execute=True):
        resp = signed_in(org.finance).post(ADD, {
            "title": "t", "body": "b", "case_type": "gifts", "severity": "high", "scope": "institution",
            "district": District.objects.get(code="331002").pk, "category": "", "institution": org.b.pk,
            "names": "", "publish_at_0": "2026-01-01", "publish_at_1": "08:00:00"})
    assert resp.status_code == 302
    warning = Warning.objects.get()
    assert warning.district == org.b.district
    assert list(Delivery.objects.values_list("employee__name", flat=True)) == ["乙员工"]

