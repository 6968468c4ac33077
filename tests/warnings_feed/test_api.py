import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import client_for
from warnings_feed.models import Delivery, Warning

pytestmark = pytest.mark.django_db

BODY = {  # exactly the field names of API.md
    "title": "员工黄小明酒后驾车被查处",
    "body": "某银行员工黄小明酒后驾车，被依法查处。",
    "case_type": "drunk_driving",
    "severity": "high",
    "scope": "district",
    "is_public": False,
}


def post(user, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        return client_for(user).post("/api/v1/warnings/", {**BODY, **changes}, format="json")


# --- publishing -----------------------------------------------------------------------------------

def test_finance_center_publishes_district_wide(org, django_capture_on_commit_callbacks):
    resp = post(org.finance, django_capture_on_commit_callbacks)
    assert resp.status_code == 201, resp.json()
    data = resp.json()
    for field in ("id", "title", "body", "case_type", "severity", "scope", "is_public", "read", "acknowledged"):
        assert field in data
    assert data["scope"] == "district" and data["status"] == "published" and data["issuer"] == "路桥区金融工作中心"
    assert Delivery.objects.filter(warning_id=data["id"]).count() == 4


def test_finance_center_publishes_to_a_category_and_an_institution(org, django_capture_on_commit_callbacks):
    resp = post(org.finance, django_capture_on_commit_callbacks, scope="category", category="insurance")
    assert resp.status_code == 201 and resp.json()["category"] == "insurance"
    resp = post(org.finance, django_capture_on_commit_callbacks, scope="institution", institution_code="C001")
    assert resp.status_code == 201 and resp.json()["institution_code"] == "C001"
    assert set(Delivery.objects.values_list("employee__name", flat=True)) == {"乙员工", "丙员工"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"scope": "category"}, "category"),
    ({"scope": "institution"}, "institution_code"),
    ({"scope": "institution", "institution_code": "NOPE"}, "institution_code"),
    ({"scope": "district", "category": "bank"}, "category"),
    ({"scope": "city"}, "scope"),
    ({"severity": "extreme"}, "severity"),
    ({"case_type": "?"}, "case_type"),
    ({"title": ""}, "title"),
])
def test_bad_input_is_400_per_field(org, django_capture_on_commit_callbacks, changes, field):
    resp = post(org.finance, django_capture_on_commit_callbacks, **changes)
    assert resp.status_code == 400 and field in resp.json(), resp.json()
    assert not Warning.objects.exists()


def test_head_publishes_to_own_institution(org, django_capture_on_commit_callbacks):
    resp = post(org.head_a, django_capture_on_commit_callbacks, scope="institution", institution_code="A001")
    assert resp.status_code == 201, resp.json()
    assert resp.json()["issuer"] == "甲银行"
    assert set(Delivery.objects.values_list("employee__name", flat=True)) == {"甲员工", "甲同事"}
    # A head of a single institution need not name it.
    resp = post(org.head_a, django_capture_on_commit_callbacks, scope="institution")
    assert resp.status_code == 201 and resp.json()["institution_code"] == "A001"


def test_head_may_not_publish_to_another_institution(org, django_capture_on_commit_callbacks):
    other = post(org.head_a, django_capture_on_commit_callbacks, scope="institution", institution_code="B001")
    unknown = post(org.head_a, django_capture_on_commit_callbacks, scope="institution", institution_code="NOPE")
    assert other.status_code == 403 and "本机构" in other.json()["detail"]
    assert unknown.status_code == 403 and unknown.json() == other.json()  # existence is not revealed
    assert not Warning.objects.exists()


@pytest.mark.parametrize("changes", [{"scope": "district"}, {"scope": "category", "category": "bank"}])
def test_head_may_not_publish_beyond_the_institution(org, django_capture_on_commit_callbacks, changes):
    resp = post(org.head_a, django_capture_on_commit_callbacks, **changes)
    assert resp.status_code == 403 and "本机构" in resp.json()["detail"]
    assert not Warning.objects.exists()


def test_employees_and_anonymous_may_not_publish(org, api, django_capture_on_commit_callbacks):
    assert post(org.emp_a, django_capture_on_commit_callbacks, scope="institution",
                institution_code="A001").status_code == 403
    assert api.post("/api/v1/warnings/", BODY, format="json").status_code == 401
    assert not Warning.objects.exists()


def test_scheduled_publishing(org, django_capture_on_commit_callbacks):
    resp = post(org.finance, django_capture_on_commit_callbacks, publish_at="2099-01-01T08:00:00+08:00")
    assert resp.status_code == 201 and resp.json()["status"] == "scheduled"
    assert not Delivery.objects.exists()
    # Not in anyone's feed before its time, except the finance center's.
    assert client_for(org.emp_a).get("/api/v1/warnings/").json()["count"] == 0
    assert client_for(org.finance).get("/api/v1/warnings/").json()["count"] == 1


# --- the feed -------------------------------------------------------------------------------------

def test_feed_unread_first_with_read_state_and_unread_count(org, publish):
    first = publish(org.finance, title="第一条")
    second = publish(org.finance, title="第二条")
    client = client_for(org.emp_a)
    client.get(f"/api/v1/warnings/{second.pk}/")  # opening marks read
    data = client.get("/api/v1/warnings/").json()
    assert {"count", "next", "previous", "results", "unread_count"} <= set(data)
    assert data["unread_count"] == 1
    assert [(r["id"], r["read"], r["acknowledged"]) for r in data["results"]] == [
        (first.pk, False, False), (second.pk, True, False)]


def test_opening_marks_read_once(org, publish):
    warning = publish(org.finance)
    client = client_for(org.emp_a)
    opened = client.get(f"/api/v1/warnings/{warning.pk}/").json()
    assert opened["read"] is True and opened["read_at"]
    again = client.get(f"/api/v1/warnings/{warning.pk}/").json()
    assert again["read_at"] == opened["read_at"]
    assert client.get("/api/v1/warnings/").json()["unread_count"] == 0


def test_acknowledge(org, publish):
    warning = publish(org.finance)
    client = client_for(org.emp_a)
    resp = client.post(f"/api/v1/warnings/{warning.pk}/acknowledge/")
    assert resp.status_code == 200
    data = resp.json()
    assert data["acknowledged"] is True and data["read"] is True and data["acknowledged_at"]
    delivery = Delivery.objects.get(warning=warning, employee__user=org.emp_a)
    assert delivery.acknowledged_at is not None and delivery.read_at is not None
    # Again: no error, and the first time stands.
    again = client.post(f"/api/v1/warnings/{warning.pk}/acknowledge/").json()
    assert again["acknowledged_at"] == data["acknowledged_at"]
    listed = client.get("/api/v1/warnings/").json()["results"][0]
    assert listed["acknowledged"] is True
    # Someone else's delivery is untouched.
    assert Delivery.objects.get(warning=warning, employee__user=org.emp_b).acknowledged_at is None


def test_finance_center_cannot_acknowledge_for_employees(org, publish):
    warning = publish(org.finance)
    resp = client_for(org.finance).post(f"/api/v1/warnings/{warning.pk}/acknowledge/")
    assert resp.status_code == 403
    assert not Delivery.objects.filter(acknowledged_at__isnull=False).exists()


def test_employee_of_another_institution_never_sees_an_institution_warning(org, publish):
    warning = publish(org.finance, scope="institution", institution_code="A001", title="甲银行内部警示")
    other = client_for(org.emp_b)
    assert other.get("/api/v1/warnings/").json()["count"] == 0
    assert other.get(f"/api/v1/warnings/{warning.pk}/").status_code == 404
    assert other.post(f"/api/v1/warnings/{warning.pk}/acknowledge/").status_code == 404
    assert other.get("/api/v1/public/warnings/").json()["count"] == 0
    # … while its own employee does.
    assert client_for(org.emp_a).get("/api/v1/warnings/").json()["results"][0]["id"] == warning.pk


def test_head_sees_own_institutions_warnings_but_not_others(org, publish):
    mine = publish(org.finance, scope="institution", institution_code="A001")
    banks = publish(org.finance, scope="category", category="bank")
    theirs = publish(org.finance, scope="institution", institution_code="B001")
    ids = {r["id"] for r in client_for(org.head_a).get("/api/v1/warnings/").json()["results"]}
    assert ids == {mine.pk, banks.pk}
    assert client_for(org.head_a).get(f"/api/v1/warnings/{theirs.pk}/").status_code == 404


# --- masking --------------------------------------------------------------------------------------

def test_names_are_masked_for_everyone_but_the_finance_center(org, publish):
    warning = publish(org.finance, title="关于黄小明违规问题的通报", body="员工黄小明与支行长欧阳娜娜……",
                      names=["黄小明"], is_public=True)
    for user in (org.emp_a, org.head_a):
        item = client_for(user).get(f"/api/v1/warnings/{warning.pk}/").json()
        assert item["title"] == "关于黄某违规问题的通报"
        assert item["body"] == "员工黄某与支行长欧阳某……"
        assert "names" not in item
    listed = client_for(org.emp_a).get("/api/v1/warnings/").json()["results"][0]
    assert "黄小明" not in str(listed) and "娜娜" not in str(listed)
    item = client_for(org.finance).get(f"/api/v1/warnings/{warning.pk}/").json()
    assert item["title"] == "关于黄小明违规问题的通报" and item["names"] == ["黄小明"]
    # The original is what is stored.
    assert Warning.objects.get(pk=warning.pk).title == "关于黄小明违规问题的通报"


def test_head_publishing_sees_the_masked_text_back(org, django_capture_on_commit_callbacks):
    resp = post(org.head_a, django_capture_on_commit_callbacks, scope="institution", names=["黄小明"])
    assert resp.status_code == 201 and "黄小明" not in resp.json()["title"]


# --- public ---------------------------------------------------------------------------------------

def test_public_warnings_need_no_login_and_are_masked(org, api, publish):
    public = publish(org.finance, is_public=True)
    publish(org.finance, title="内部警示", is_public=False)
    publish(org.finance, title="定时公开", is_public=True, publish_at="2099-01-01T00:00:00+08:00")
    data = api.get("/api/v1/public/warnings/").json()
    assert data["count"] == 1
    item = data["results"][0]
    assert item["id"] == public.pk and item["title"] == "员工黄某酒后驾车被查处"
    assert "黄小明" not in str(data)
    assert api.get(f"/api/v1/public/warnings/{public.pk}/").status_code == 200
    # Even the finance center gets the masked public text there.
    assert "黄小明" not in str(client_for(org.finance).get("/api/v1/public/warnings/").json())


# --- rates ----------------------------------------------------------------------------------------

def test_rates_per_institution(org, publish):
    warning = publish(org.finance)
    client_for(org.emp_a).post(f"/api/v1/warnings/{warning.pk}/acknowledge/")
    client_for(org.emp_b).get(f"/api/v1/warnings/{warning.pk}/")
    data = client_for(org.finance).get(f"/api/v1/warnings/{warning.pk}/rates/").json()
    rows = {r["institution_code"]: r for r in data["institutions"]}
    assert rows["A001"]["delivered"] == 2 and rows["A001"]["acknowledged"] == 1
    assert rows["A001"]["read_rate"] == 50.0 and rows["A001"]["acknowledged_rate"] == 50.0
    assert rows["B001"]["read_rate"] == 100.0 and rows["B001"]["acknowledged_rate"] == 0.0
    assert data["total"]["delivered"] == 4 and data["total"]["acknowledged"] == 1
    head = client_for(org.head_a).get(f"/api/v1/warnings/{warning.pk}/rates/").json()
    assert [r["institution_code"] for r in head["institutions"]] == ["A001"]
    assert client_for(org.emp_a).get(f"/api/v1/warnings/{warning.pk}/rates/").status_code == 403
    overall = client_for(org.finance).get("/api/v1/warnings/rates/").json()["institutions"]
    assert {r["institution_code"] for r in overall} == {"A001", "B001", "C001"}


# --- a constant number of queries -----------------------------------------------------------------

def count_queries(user, url) -> int:
    client = client_for(type(user).objects.get(pk=user.pk))  # nothing cached on the user object
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_feed_api_uses_a_constant_number_of_queries(org, publish, django_assert_max_num_queries):
    for n in range(2):
        publish(org.finance, title=f"警示{n}", names=["黄小明"])
    few = {user.username: count_queries(user, "/api/v1/warnings/") for user in (org.emp_a, org.head_a, org.finance)}
    for n in range(2, 25):
        publish(org.finance, title=f"警示{n}", scope="category" if n % 2 else "district", category="bank" if n % 2
                else "")
        client_for(org.emp_a).get(f"/api/v1/warnings/{n}/")
    many = {user.username: count_queries(user, "/api/v1/warnings/") for user in (org.emp_a, org.head_a, org.finance)}
    assert many == few
    with django_assert_max_num_queries(8):
        client_for(org.emp_a).get("/api/v1/warnings/?page_size=500")


def test_rates_of_every_year_read_from_the_tallies_equal_the_deliveries_counted(org, publish):
    """/api/v1/warnings/rates/ reads the stored tallies (no ?year=) and the deliveries (?year=): the
    same rows, with reads, acknowledgements and a head's own scope."""
    from warnings_feed import selectors
    from warnings_feed.models import DeliveryTally

    first, second = publish(org.finance), publish(org.finance, title="第二条")
    client_for(org.emp_a).post(f"/api/v1/warnings/{first.pk}/acknowledge/")
    client_for(org.emp_b).get(f"/api/v1/warnings/{second.pk}/")
    assert DeliveryTally.objects.exists()
    year = first.publish_at.year
    for user in (org.finance, org.head_a):
        tallied = client_for(user).get("/api/v1/warnings/rates/").json()
        counted = client_for(user).get("/api/v1/warnings/rates/", {"year": year}).json()
        assert tallied["results"] == counted["results"] and tallied["count"] == counted["count"]
        assert tallied["institutions"] == tallied["results"]
    rows = client_for(org.finance).get("/api/v1/warnings/rates/").json()["results"]
    a001 = next(r for r in rows if r["institution_code"] == "A001")
    assert a001["delivered"] == 4 and a001["acknowledged"] == 1 and a001["read"] == 1
    assert len(rows) == len(selectors.rates_by_institution())


def test_home_todo_of_warnings_acknowledged_by_fewer_than_eight_in_ten(org, publish, monkeypatch):
    """The finance center's "知悉率低于八成" line counts recent warnings past the acknowledgement
    period (read from the stored tallies), and a head's counts only their own institution's people."""
    from datetime import timedelta

    from django.utils import timezone

    from warnings_feed import todos
    from warnings_feed.models import Warning

    low, high = publish(org.finance, title="低"), publish(org.finance, title="高")
    for user in (org.emp_a, org.emp_b, org.emp_c):
        client_for(user).post(f"/api/v1/warnings/{high.pk}/acknowledge/")
    client_for(org.emp_a).post(f"/api/v1/warnings/{low.pk}/acknowledge/")
    assert todos.low_acknowledgement(org.finance) == 0  # still within the acknowledgement period
    Warning.objects.filter(pk__in=[low.pk, high.pk]).update(publish_at=timezone.now() - timedelta(days=30))
    # Each reached 4 people: the high one 3 acknowledged (75 %), the low one 1 (25 %).
    assert todos.low_acknowledgement(org.finance) == 2
    monkeypatch.setattr(todos, "LOW_ACKNOWLEDGEMENT_PERCENT", 70)
    assert todos.low_acknowledgement(org.finance) == 1
    # Bank A's head: A's two people, one of whom acknowledged each (50 %).
    assert todos.low_acknowledgement(org.head_a) == 2
    monkeypatch.setattr(todos, "LOW_ACKNOWLEDGEMENT_PERCENT", 50)
    assert todos.low_acknowledgement(org.head_a) == 0
