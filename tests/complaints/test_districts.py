"""District tenancy of complaints: an officer of 路桥 (331004) never sees, touches or counts a case
of 椒江 (331002), by page, API, export, admin or mail; a 404 says nothing of whether it exists."""

import csv
import io

import pytest
from django.core import mail
from django.test import Client

from complaints import services
from complaints.models import Complaint, ComplaintEvent, ComplaintNote, PiiReveal
from core import outbox
from institutions.models import District
from institutions.services import grant_role
from tests.complaints.helpers import act, make_image, submit_case
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db
LIST = "/api/v1/complaints/"
STATS = "/api/v1/complaints/stats/"


def granted(username, role, *codes, **extra):
    """A user holding `role` in the districts `codes` (and nothing through the test factory)."""
    user = UserFactory(username=username, email=f"{username}@example.invalid", **extra)
    for code in codes:
        grant_role(user, role, District.objects.get(code=code))
    return user


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(db):
    """A bank in each district, a case in each, and officers of one, the other and both districts."""
    lq_bank = InstitutionFactory(code="LQ-D01", name="路桥测试银行")
    jj_bank = InstitutionFactory(code="JJ-D01", name="椒江测试银行", district=District.objects.get(code="331002"))
    lq_case, _ = submit_case(lq_bank, kind="report", description="路桥柜员收红包", anonymous=False,
                             contact_name="黄小明", contact_phone="13812345678")
    jj_case, _ = submit_case(jj_bank, kind="report", description="椒江柜员收红包", anonymous=False,
                             contact_name="李四", contact_phone="13912345678")
    return {
        "lq_bank": lq_bank, "jj_bank": jj_bank, "lq_case": lq_case, "jj_case": jj_case,
        "fc_lq": granted("fc-lq", "finance_center", "331004", is_staff=True),
        "fc_jj": granted("fc-jj", "finance_center", "331002", is_staff=True),
        "fc_both": granted("fc-both", "finance_center", "331004", "331002", is_staff=True),
    }


def snapshot(case):
    row = Complaint.objects.get(pk=case.pk)
    return (row.status, row.version, row.accepted_at, row.outcome,
            ComplaintEvent.objects.filter(complaint=case).count(), ComplaintNote.objects.filter(complaint=case).count(),
            PiiReveal.objects.filter(complaint=case).count())


# --- the queue, a case and its actions -------------------------------------------------------------

def test_api_list_detail_and_actions_of_another_district_are_404(world):
    api = client_for(world["fc_lq"])
    jj_case = world["jj_case"]
    body = api.get(LIST).json()
    assert [r["id"] for r in body["results"]] == [world["lq_case"].pk]
    assert body["results"][0]["district"] == "331004"
    before = snapshot(jj_case)
    assert api.get(f"{LIST}{jj_case.pk}/").status_code == 404
    for name, data in (("accept", {}), ("reject", {"reason": "不属受理范围"}), ("verify", {}),
                       ("forward_discipline", {}), ("conclude", {"outcome": "substantiated"}),
                       ("close", {"reply": "已办结"})):
        assert api.post(f"{LIST}{jj_case.pk}/actions/{name}/", data, format="json").status_code == 404, name
    assert api.post(f"{LIST}{jj_case.pk}/notes/", {"body": "看看"}, format="json").status_code == 404
    assert api.post(f"{LIST}{jj_case.pk}/reveal/", {"reason": "核实"}, format="json").status_code == 404
    assert api.get(LIST, {"institution": world["jj_bank"].code}).json()["count"] == 0
    assert snapshot(jj_case) == before
    # Its own district's case works as before.
    assert api.post(f"{LIST}{world['lq_case'].pk}/actions/accept/", {}, format="json").status_code == 200
    # The service itself refuses too: in another district the officer acts in no capacity.
    with pytest.raises(services.ServiceError):
        act(jj_case, "accept", world["fc_lq"])
    assert snapshot(jj_case) == before


def test_queue_district_parameter(world):
    both = client_for(world["fc_both"])
    assert both.get(LIST).json()["count"] == 2
    assert [r["id"] for r in both.get(LIST, {"district": "331002"}).json()["results"]] == [world["jj_case"].pk]
    assert client_for(world["fc_lq"]).get(LIST, {"district": "331002"}).status_code == 404
    assert client_for(world["fc_lq"]).get(LIST, {"district": "999999"}).status_code == 404
    assert logged_in(world["fc_lq"]).get("/complaints/", {"district": "331002"}).status_code == 404


def test_pages_of_another_districts_case_are_404(world):
    client = logged_in(world["fc_lq"])
    jj_case = world["jj_case"]
    queue = client.get("/complaints/").content.decode()
    assert f"/complaints/{world['lq_case'].pk}/" in queue and f"/complaints/{jj_case.pk}/" not in queue
    assert "路桥测试银行" in queue and "椒江测试银行" not in queue
    before = snapshot(jj_case)
    assert client.get(f"/complaints/{jj_case.pk}/").status_code == 404
    assert client.post(f"/complaints/{jj_case.pk}/actions/accept/").status_code == 404
    assert client.post(f"/complaints/{jj_case.pk}/notes/", {"body": "看看"}).status_code == 404
    assert client.post(f"/complaints/{jj_case.pk}/reveal/", {"reason": "核实"}).status_code == 404
    assert client.get(f"/complaints/{jj_case.pk}/images/1/").status_code == 404
    assert snapshot(jj_case) == before
    # A merge target of another district is refused like one that does not exist.
    lq_case = world["lq_case"]
    client.post(f"/complaints/{lq_case.pk}/actions/accept/")
    assert client.post(f"/complaints/{lq_case.pk}/actions/merge/",
                       {"target": jj_case.pk, "reason": "同一事项"}).status_code in (400, 409)
    assert Complaint.objects.get(pk=lq_case.pk).merged_into_id is None


def test_officer_of_both_districts_handles_both(world):
    client = logged_in(world["fc_both"])
    for case in (world["lq_case"], world["jj_case"]):
        assert client.get(f"/complaints/{case.pk}/").status_code == 200
    act(world["jj_case"], "accept", world["fc_both"])
    assert Complaint.objects.get(pk=world["jj_case"].pk).status == "accepted"


def test_discipline_sees_forwarded_cases_of_its_districts_only(world):
    disc = granted("disc-lq", "discipline", "331004")
    api = client_for(disc)
    assert api.get(LIST).json()["count"] == 0  # nothing forwarded yet
    for case, officer in ((world["lq_case"], world["fc_lq"]), (world["jj_case"], world["fc_jj"])):
        act(case, "accept", officer)
        act(case, "forward_discipline", officer)
    assert [r["id"] for r in api.get(LIST).json()["results"]] == [world["lq_case"].pk]
    jj_case = world["jj_case"]
    before = snapshot(jj_case)
    assert api.get(f"{LIST}{jj_case.pk}/").status_code == 404
    assert api.post(f"{LIST}{jj_case.pk}/actions/conclude/", {"outcome": "substantiated"},
                    format="json").status_code == 404
    assert snapshot(jj_case) == before
    assert api.post(f"{LIST}{world['lq_case'].pk}/actions/conclude/", {"outcome": "substantiated"},
                    format="json").status_code == 200


def test_heads_see_their_own_institutions_referred_cases_only(world):
    head = institution_user(world["jj_bank"], "institution_head", username="head-jj")
    act(world["jj_case"], "accept", world["fc_jj"])
    act(world["jj_case"], "refer_institution", world["fc_jj"])
    act(world["lq_case"], "accept", world["fc_lq"])
    act(world["lq_case"], "refer_institution", world["fc_lq"])
    api = client_for(head)
    assert [r["id"] for r in api.get(LIST).json()["results"]] == [world["jj_case"].pk]
    assert api.get(f"{LIST}{world['lq_case'].pk}/").status_code == 404


def test_city_users_see_aggregates_never_cases(world):
    city = granted("city-tz", "city", "3310")
    api = client_for(city)
    assert api.get(LIST).status_code == 403
    assert api.get(f"{LIST}{world['lq_case'].pk}/").status_code in (403, 404)
    assert logged_in(city).get(f"/complaints/{world['lq_case'].pk}/").status_code in (403, 404)
    stats = api.get(STATS).json()
    assert stats["total"] == 2 and stats["by_kind"] == {"report": 2}
    assert "contact_name" not in str(stats) and "黄小明" not in str(stats) and "收红包" not in str(stats)
    assert api.get(STATS, {"district": "331002"}).json()["total"] == 1
    assert api.get(STATS, {"district": "330102"}).status_code == 404  # not a district of its city


# --- statistics and exports -------------------------------------------------------------------------

def test_statistics_and_exports_are_limited_to_the_users_districts(world):
    api = client_for(world["fc_lq"])
    stats = api.get(STATS).json()
    assert stats["total"] == 1 and [r["institution__code"] for r in stats["by_institution"]] == ["LQ-D01"]
    assert api.get(STATS, {"district": "331002"}).status_code == 404
    assert api.get(STATS, {"district": "331004"}).json()["total"] == 1
    client = logged_in(world["fc_lq"])
    page = client.get("/complaints/stats/").content.decode()
    assert "路桥测试银行" in page and "椒江测试银行" not in page
    assert client.get("/complaints/stats/", {"district": "331002"}).status_code == 404
    assert client.get("/complaints/stats/export/", {"district": "331002", "format": "csv"}).status_code == 404
    export = client.get("/complaints/stats/export/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["LQ-D01"]
    xlsx = client.get("/complaints/stats/export/", {"format": "xlsx"})
    assert xlsx.status_code == 200 and b"JJ-D01" not in xlsx.content


def test_statistics_of_several_districts_and_the_district_parameter(world):
    api = client_for(world["fc_both"])
    assert api.get(STATS).json()["total"] == 2
    narrowed = api.get(STATS, {"district": "331002"}).json()
    assert narrowed["total"] == 1 and narrowed["district"] == "331002"
    assert [r["institution__code"] for r in narrowed["by_institution"]] == ["JJ-D01"]
    page = logged_in(world["fc_both"]).get("/complaints/stats/", {"district": "331002"}).content.decode()
    assert "椒江测试银行" in page and "路桥测试银行" not in page
    export = logged_in(world["fc_both"]).get("/complaints/stats/export/", {"format": "csv", "district": "331004"})
    assert [r[0] for r in list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))[1:]] == ["LQ-D01"]


# --- posters and questionnaire links --------------------------------------------------------------

def test_posters_and_survey_links_of_the_users_districts_only(world):
    client = logged_in(world["fc_lq"])
    posters = b"".join(client.get("/complaints/posters/").streaming_content).decode()
    assert "路桥测试银行" in posters and "椒江测试银行" not in posters
    assert client.get("/complaints/posters/", {"district": "331002"}).status_code == 404
    assert client.get(f"/complaints/posters/{world['jj_bank'].code}/").status_code == 404
    assert client.get(f"/complaints/posters/{world['lq_bank'].code}/").status_code == 200
    links = client.get("/complaints/survey-links/").content.decode()
    assert "LQ-D01" in links and "JJ-D01" not in links
    assert client.post("/complaints/survey-links/", {"institution": "JJ-D01", "count": "2"}).status_code == 404
    both = b"".join(logged_in(world["fc_both"]).get("/complaints/posters/", {"district": "331002"})
                    .streaming_content).decode()
    assert "椒江测试银行" in both and "路桥测试银行" not in both


# --- admin ----------------------------------------------------------------------------------------

def test_admin_pages_hold_the_users_districts_only(world):
    lq_case, jj_case = world["lq_case"], world["jj_case"]
    for case, officer in ((lq_case, world["fc_lq"]), (jj_case, world["fc_jj"])):
        services.reveal_identity(Complaint.objects.select_related("institution").get(pk=case.pk), officer, "核实身份")
    services.regenerate_public_code(world["jj_bank"], world["fc_jj"])
    client = logged_in(world["fc_lq"])
    changelist = client.get("/admin/complaints/complaint/").content.decode()
    assert f"/complaints/{lq_case.pk}/" in changelist and f"/complaints/{jj_case.pk}/" not in changelist
    assert client.get(f"/admin/complaints/complaint/{jj_case.pk}/change/").status_code == 404
    assert client.get(f"/admin/complaints/complaint/{lq_case.pk}/change/").status_code == 200
    reveals = client.get("/admin/complaints/piireveal/").content.decode()
    assert "fc-lq" in reveals and "fc-jj" not in reveals  # nor in the user filter
    jj_reveal = PiiReveal.objects.get(complaint=jj_case)
    assert client.get(f"/admin/complaints/piireveal/{jj_reveal.pk}/change/").status_code == 404
    posters = client.get("/admin/complaints/institutionposter/").content.decode()
    assert "路桥测试银行" in posters and "椒江测试银行" not in posters
    assert "椒江区" not in posters  # the district filter offers only the user's own
    assert client.get(f"/admin/complaints/institutionposter/{world['jj_bank'].pk}/change/").status_code == 404
    assert "椒江测试银行" not in client.get("/admin/complaints/retiredpubliccode/").content.decode()
    notifications = client.get("/admin/complaints/notification/").content.decode()
    assert f"#{jj_case.pk}" not in notifications


def test_regenerate_codes_of_another_district_changes_nothing(world):
    jj_bank = world["jj_bank"]
    before = type(jj_bank).objects.get(pk=jj_bank.pk).public_code
    logged_in(world["fc_lq"]).post("/admin/complaints/institutionposter/", {
        "action": "regenerate_codes", "confirm": "yes", "_selected_action": [jj_bank.pk]})
    assert type(jj_bank).objects.get(pk=jj_bank.pk).public_code == before


def test_holidays_are_read_by_finance_centers_and_changed_by_the_administrator(world):
    client = logged_in(world["fc_lq"])
    assert client.get("/admin/complaints/holidayyear/").status_code == 200
    assert client.get("/admin/complaints/holidayyear/2026/change/").status_code == 200
    assert client.post("/admin/complaints/holidayyear/2026/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/complaints/holidayyear/add/").status_code == 403
    assert client.get("/admin/complaints/questionnaire/").status_code == 200
    assert client.get("/admin/complaints/questionnaire/add/").status_code == 403
    root = logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert root.get("/admin/complaints/holidayyear/add/").status_code == 200


# --- mail ------------------------------------------------------------------------------------------

def test_mail_reaches_the_cases_district_only(world):
    mail.outbox.clear()
    services.send_pending_notifications()
    outbox.send_pending()
    sent = {tuple(m.to): m.subject for m in mail.outbox}
    assert set(sent) == {("fc-both@example.invalid", "fc-lq@example.invalid"),
                         ("fc-both@example.invalid", "fc-jj@example.invalid")}
    assert "路桥测试银行" in sent[("fc-both@example.invalid", "fc-lq@example.invalid")]
    disc_lq = granted("disc-lq", "discipline", "331004")
    granted("disc-jj", "discipline", "331002")
    mail.outbox.clear()
    act(world["lq_case"], "accept", world["fc_lq"])
    act(world["lq_case"], "forward_discipline", world["fc_lq"])
    services.send_pending_notifications()
    outbox.send_pending()
    assert [m.to for m in mail.outbox] == [[disc_lq.email]]


def test_image_of_another_districts_case_is_404(world):
    data = make_image()
    from complaints.images import process_image

    case, _ = submit_case(world["jj_bank"], kind="complaint", images=[(process_image(data), data)])
    assert logged_in(world["fc_jj"]).get(f"/complaints/{case.pk}/images/1/").status_code == 200
    assert logged_in(world["fc_lq"]).get(f"/complaints/{case.pk}/images/1/").status_code == 404
    assert logged_in(world["fc_lq"]).post(f"/complaints/{case.pk}/images/1/original/",
                                          {"reason": "核实"}).status_code == 404
