"""The public blacklist API lists only districts that chose to publish (API.md "Warnings": 200
always; entries only of districts that chose to publish their blacklist, off by default; names
masked). The district's finance center switches it on its disclosure page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from institutions.models import District
from staff_points import services as points
from staff_points.models import ViolationType
from staff_points.services import RecordInput
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db
URL = "/api/v1/public/blacklist/"
PAGE = "/complaints/disclosure/"


@pytest.fixture
def blacklisted(db):
    """One confirmed entry in 路桥区 (黄小明) and one in 椒江区 (李大明)."""
    ViolationType.objects.create(code="R02", name="酒驾", module="red_line", points=Decimal("30"), is_red_line=True)
    today = timezone.localdate()
    out = {}
    for code, name in (("331004", "黄小明"), ("331002", "李大明")):
        district = District.objects.get(code=code)
        bank = InstitutionFactory(code=f"BL-{code}", district=district)
        fc = UserFactory(username=f"fc-{code}", roles=["finance_center"], roles__districts=[code], is_staff=True)
        employee = EmployeeFactory(institution=bank, name=name, employee_no=f"E-{code}")
        record = points.record_points(fc, employee, RecordInput(date=today, kind="deduction", violation_code="R02"))
        points.decide_blacklist(fc, record.blacklist_entry, True, "经核实属实")
        out[code] = (district, fc, bank)
    return out


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def published(code: str) -> bool:
    return District.objects.get(code=code).publish_blacklist


def test_off_by_default_the_api_answers_200_and_lists_nothing(api, blacklisted):
    resp = api.get(URL)
    assert resp.status_code == 200 and resp.json()["count"] == 0


def test_a_district_that_publishes_lists_its_entries_only_masked(api, blacklisted):
    _district, fc, _bank = blacklisted["331004"]
    resp = logged_in(fc).post(PAGE, {"district": "331004", "publish": "1"})
    assert resp.status_code == 302 and published("331004") and not published("331002")
    body = api.get(URL).json()
    assert body["count"] == 1
    assert body["results"][0]["name"] == "黄某" and body["results"][0]["institution"]["code"] == "BL-331004"
    assert "小明" not in str(body) and "李" not in str(body)
    # Withdrawn: nothing again.
    assert logged_in(fc).post(PAGE, {"publish": "0"}).status_code == 302  # one district: none named
    assert api.get(URL).json()["count"] == 0


def test_the_page_lists_the_finance_centers_districts(blacklisted):
    _district, fc, _bank = blacklisted["331004"]
    html = logged_in(fc).get(PAGE).content.decode()
    assert "路桥区" in html and "椒江区" not in html and "不公开" in html
    assert 'name="publish" value="1"' in html


def test_another_district_is_404_and_nothing_changes(blacklisted):
    _district, fc, _bank = blacklisted["331004"]
    client = logged_in(fc)
    assert client.get(PAGE + "?district=331002").status_code == 404
    assert client.post(PAGE, {"district": "331002", "publish": "1"}).status_code == 404
    assert not published("331002") and not published("331004")


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_bad_input_is_400_and_nothing_changes(blacklisted, value):
    _district, fc, _bank = blacklisted["331004"]
    resp = logged_in(fc).post(PAGE, {"district": "331004", "publish": value})
    assert resp.status_code == 400 and "请选择公开或不公开" in resp.content.decode()
    assert not published("331004")


def test_switching_to_the_current_state_is_409(blacklisted):
    _district, fc, _bank = blacklisted["331004"]
    resp = logged_in(fc).post(PAGE, {"district": "331004", "publish": "0"})
    assert resp.status_code == 409 and "黑名单未公开" in resp.content.decode()
    assert not published("331004")


def test_others_are_refused(blacklisted, client):
    _district, _fc, bank = blacklisted["331004"]
    head = institution_user(bank, "institution_head", username="head-bl")
    inspector = UserFactory(username="insp-bl", roles=["inspector"])
    for user in (head, inspector):
        c = logged_in(user)
        assert c.get(PAGE).status_code == 403
        assert c.post(PAGE, {"district": "331004", "publish": "1"}).status_code == 403
    assert client.get(PAGE).status_code == 302  # to the login page
    assert not published("331004")
