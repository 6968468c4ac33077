"""District tenancy of warnings: an officer of 路桥 (331004) publishes for 路桥 (without naming it)
and never publishes to, lists, follows or administers a warning of 椒江 (331002); employees' feeds
and public warnings are unchanged."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from institutions.models import District
from institutions.services import grant_role
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory
from tests.warnings_feed.conftest import draft, employee_login
from warnings_feed import services
from warnings_feed.models import Delivery, Warning

pytestmark = pytest.mark.django_db
API = "/api/v1/warnings/"
BODY = {"title": "员工黄小明酒后驾车被查处", "body": "某银行员工黄小明酒后驾车，被依法查处。",
        "case_type": "drunk_driving", "severity": "high", "scope": "district", "is_public": False}


def granted(username, role, *codes, **extra):
    user = UserFactory(username=username, **extra)
    for code in codes:
        grant_role(user, role, District.objects.get(code=code))
    return user


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two(db):
    jiaojiang = District.objects.get(code="331002")
    lq_bank = InstitutionFactory(code="LQ-W01", name="路桥警示银行", category="bank")
    lq_insurer = InstitutionFactory(code="LQ-W02", name="路桥警示保险", category="insurance")
    jj_bank = InstitutionFactory(code="JJ-W01", name="椒江警示银行", category="bank", district=jiaojiang)
    return SimpleNamespace(
        lq_bank=lq_bank, lq_insurer=lq_insurer, jj_bank=jj_bank,
        emp_lq=employee_login(lq_bank, "emp-lq", "路桥员工"),
        emp_lq_ins=employee_login(lq_insurer, "emp-lq-ins", "路桥保险员工"),
        emp_jj=employee_login(jj_bank, "emp-jj", "椒江员工"),
        fc_lq=granted("fc-lq", "finance_center", "331004", is_staff=True),
        fc_jj=granted("fc-jj", "finance_center", "331002", is_staff=True),
        fc_both=granted("fc-both", "finance_center", "331004", "331002", is_staff=True),
    )


@pytest.fixture
def post(django_capture_on_commit_callbacks):
    def _post(user, **changes):
        with django_capture_on_commit_callbacks(execute=True):
            return client_for(user).post(API, {**BODY, **changes}, format="json")
    return _post


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    def _publish(user, **overrides):
        with django_capture_on_commit_callbacks(execute=True):
            return services.publish(user, draft(**overrides))
    return _publish


def recipients(warning_id) -> set[str]:
    return set(Delivery.objects.filter(warning_id=warning_id).values_list("employee__name", flat=True))


# --- publishing -----------------------------------------------------------------------------------

def test_an_officer_publishes_for_their_only_district_without_naming_it(two, post):
    resp = post(two.fc_lq)
    assert resp.status_code == 201, resp.json()
    assert resp.json()["district"] == "331004" and resp.json()["issuer"] == "路桥区金融工作中心"
    assert recipients(resp.json()["id"]) == {"路桥员工", "路桥保险员工"}
    resp = post(two.fc_lq, scope="category", category="bank")
    assert resp.status_code == 201 and resp.json()["district"] == "331004"
    assert recipients(resp.json()["id"]) == {"路桥员工"}  # not 椒江's banks
    resp = post(two.fc_lq, scope="institution", institution_code="LQ-W02")
    assert resp.status_code == 201 and recipients(resp.json()["id"]) == {"路桥保险员工"}


def test_publishing_to_another_district_is_refused_like_an_unknown_code(two, post):
    foreign = post(two.fc_lq, district="331002")
    unknown = post(two.fc_lq, district="339999")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json()["district"] == [m.replace("339999", "331002") for m in unknown.json()["district"]]
    foreign = post(two.fc_lq, scope="category", category="bank", district="331002")
    assert foreign.status_code == 400 and "district" in foreign.json()
    foreign = post(two.fc_lq, scope="institution", institution_code="JJ-W01")
    unknown = post(two.fc_lq, scope="institution", institution_code="NO-SUCH")
    assert foreign.status_code == unknown.status_code == 400
    assert foreign.json() == {"institution_code": ["未知的机构编码：JJ-W01"]}
    assert unknown.json() == {"institution_code": ["未知的机构编码：NO-SUCH"]}
    assert not Warning.objects.exists() and not Delivery.objects.exists()


def test_an_officer_of_several_districts_names_one(two, post, publish):
    resp = post(two.fc_both)
    assert resp.status_code == 400 and "331002" in str(resp.json()["district"]) and "331004" in str(resp.json())
    assert not Warning.objects.exists()
    resp = post(two.fc_both, district="331002")
    assert resp.status_code == 201 and recipients(resp.json()["id"]) == {"椒江员工"}
    resp = post(two.fc_both, scope="institution", institution_code="JJ-W01")
    assert resp.status_code == 201 and resp.json()["district"] == "331002"


def test_service_refuses_another_district(two, publish):
    with pytest.raises(ValidationError):
        publish(two.fc_lq, district_code="331002")
    with pytest.raises(ValidationError):
        publish(two.fc_lq, scope="institution", institution_code="JJ-W01")
    assert not Warning.objects.exists()


def test_single_district_installation_defaults_for_the_administrator(db, publish):
    bank = InstitutionFactory(code="LQ-S01")
    employee_login(bank, "emp-s", "唯一员工")
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    warning = publish(root)
    assert warning.district.code == "331004" and recipients(warning.pk) == {"唯一员工"}


# --- feed, manage, rates --------------------------------------------------------------------------

def test_staff_views_hold_their_districts_only(two, publish):
    lq = publish(two.fc_lq, names=["黄小明"])
    jj = publish(two.fc_jj, names=["黄小明"])
    api = client_for(two.fc_lq)
    assert [w["id"] for w in api.get(API).json()["results"]] == [lq.pk]
    assert "黄小明" in api.get(f"{API}{lq.pk}/").json()["title"]  # their own district: real names
    for url in (f"{API}{jj.pk}/", f"{API}{jj.pk}/rates/"):
        assert api.get(url).status_code == 404, url
    assert api.post(f"{API}{jj.pk}/acknowledge/").status_code == 404
    codes = {row["institution_code"] for row in api.get(f"{API}rates/").json()["institutions"]}
    assert codes == {"LQ-W01", "LQ-W02"}
    assert api.get(API, {"district": "331002"}).status_code == 404
    both = client_for(two.fc_both)
    assert {w["id"] for w in both.get(API).json()["results"]} == {lq.pk, jj.pk}
    assert [w["id"] for w in both.get(API, {"district": "331002"}).json()["results"]] == [jj.pk]
    assert {r["institution_code"] for r in both.get(f"{API}rates/").json()["institutions"]} == {
        "LQ-W01", "LQ-W02", "JJ-W01"}

    client = browser(two.fc_lq)
    manage = client.get("/warnings/manage/").content.decode()
    assert f"/warnings/manage/{lq.pk}/" in manage and f"/warnings/manage/{jj.pk}/" not in manage
    assert "椒江警示银行" not in manage  # neither in the rates nor among the institutions offered
    assert client.get(f"/warnings/manage/{jj.pk}/").status_code == 404
    assert client.get(f"/warnings/{jj.pk}/").status_code == 404
    detail = client.get(f"/warnings/manage/{lq.pk}/").content.decode()
    assert "路桥员工" in detail and "椒江员工" not in detail


def test_the_manage_page_publishes_in_the_officers_district(two, django_capture_on_commit_callbacks):
    form = {"title": "关于违规的通报", "body": "正文", "case_type": "gifts", "severity": "high",
            "scope": "district", "names": ""}
    with django_capture_on_commit_callbacks(execute=True):
        resp = browser(two.fc_lq).post("/warnings/manage/", form)
    assert resp.status_code == 302
    assert Warning.objects.get().district.code == "331004"
    with django_capture_on_commit_callbacks(execute=True):
        resp = browser(two.fc_lq).post("/warnings/manage/", {**form, "district": "331002"})
        assert resp.status_code == 400
        resp = browser(two.fc_lq).post("/warnings/manage/", {**form, "scope": "institution",
                                                               "institution": "JJ-W01"})
        assert resp.status_code == 400
    assert Warning.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        resp = browser(two.fc_both).post("/warnings/manage/", {**form, "district": "331002"})
    assert resp.status_code == 302
    assert recipients(Warning.objects.get(district__code="331002").pk) == {"椒江员工"}


def test_names_are_revealed_only_to_the_warnings_own_finance_center(two, publish):
    jj = publish(two.fc_jj, title="员工黄小明收受红包", names=["黄小明"])
    grant_role(two.fc_lq, "inspector", District.objects.get(code="331002"))  # reads 椒江's published warnings
    item = client_for(two.fc_lq).get(f"{API}{jj.pk}/").json()
    assert item["title"] == "员工黄某收受红包" and "names" not in item
    assert client_for(two.fc_jj).get(f"{API}{jj.pk}/").json()["title"] == "员工黄小明收受红包"


def test_employees_feeds_and_public_warnings_are_unchanged(two, publish):
    lq = publish(two.fc_lq)
    jj = publish(two.fc_jj, is_public=True)
    assert [w["id"] for w in client_for(two.emp_lq).get(API).json()["results"]] == [lq.pk]
    assert [w["id"] for w in client_for(two.emp_jj).get(API).json()["results"]] == [jj.pk]
    assert client_for(two.emp_lq).get(f"{API}{jj.pk}/").status_code == 404
    assert [w["id"] for w in Client().get("/api/v1/public/warnings/").json()["results"]] == [jj.pk]


# --- admin ----------------------------------------------------------------------------------------

def test_admin_holds_the_officers_districts_only(two, publish, django_capture_on_commit_callbacks):
    lq = publish(two.fc_lq, title="路桥的通报")
    jj = publish(two.fc_jj, title="椒江的通报")
    client = browser(two.fc_lq)
    changelist = client.get("/admin/warnings_feed/warning/").content.decode()
    assert "路桥的通报" in changelist and "椒江的通报" not in changelist and "椒江区" not in changelist
    assert client.get(f"/admin/warnings_feed/warning/{jj.pk}/change/").status_code == 404
    assert client.get(f"/admin/warnings_feed/warning/{lq.pk}/change/").status_code == 200
    add = client.get("/admin/warnings_feed/warning/add/").content.decode()
    assert "路桥区" in add and "椒江区" not in add
    before = Warning.objects.count()
    form = {"title": "t", "body": "b", "case_type": "gifts", "severity": "high", "scope": "district",
            "district": District.objects.get(code="331002").pk, "category": "", "institution": "", "names": "",
            "publish_at_0": "2026-01-01", "publish_at_1": "08:00:00"}
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/admin/warnings_feed/warning/add/", form).status_code == 200  # the form's error
        assert client.post("/admin/warnings_feed/warning/add/", {
            **form, "scope": "institution", "district": District.objects.get(code="331004").pk,
            "institution": two.jj_bank.pk}).status_code == 200
        assert client.post(f"/admin/warnings_feed/warning/{jj.pk}/delete/", {"post": "yes"}).status_code == 404
    assert Warning.objects.count() == before
    assert not Delivery.objects.filter(warning__title="t").exists()
