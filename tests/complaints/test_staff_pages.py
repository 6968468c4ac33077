"""Staff pages (queue, case, actions, reveal, statistics, posters, survey links) and the admin."""

import io
import re

import pytest
from django.test import Client
from openpyxl import load_workbook

from complaints.images import process_image
from complaints.models import Complaint, HolidayDate, HolidayYear, PiiReveal, RetiredPublicCode
from tests.complaints.helpers import act, make_image, submit_case
from tests.factories import InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_queue_requires_role(bank, client):
    assert client.get("/complaints/").status_code == 302  # to the login page
    inspector = UserFactory(username="insp", roles=["inspector"])
    assert logged_in(inspector).get("/complaints/").status_code == 403


def test_queue_and_detail_for_finance_center(fc, bank, django_assert_max_num_queries):
    for n in range(20):
        submit_case(bank, kind="report", description=f"案件{n}")
    client = logged_in(fc)
    with django_assert_max_num_queries(12):
        resp = client.get("/complaints/")
    html = resp.content.decode()
    assert resp.status_code == 200 and "共 20 件" in html and bank.name in html
    case = Complaint.objects.first()
    detail = client.get(f"/complaints/{case.pk}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "决定是否受理" in html and "银行保险违法行为举报处理办法" in html  # due dates with their basis
    assert case.deadlines["accept"]["date"] in html


def test_description_is_escaped_on_staff_pages(fc, bank):
    evil = '<script>alert(1)</script>'
    case, _ = submit_case(bank, kind="report", description=evil, staff_name=evil)
    client = logged_in(fc)
    for url in ("/complaints/", f"/complaints/{case.pk}/", f"/admin/complaints/complaint/{case.pk}/change/"):
        html = client.get(url).content.decode()
        assert evil not in html, url
    assert "&lt;script&gt;" in client.get(f"/complaints/{case.pk}/").content.decode()


def test_actions_through_the_page(fc, bank):
    case, _ = submit_case(bank, kind="complaint")
    client = logged_in(fc)
    resp = client.post(f"/complaints/{case.pk}/actions/accept/", {"version": case.version})
    assert resp.status_code == 302
    case.refresh_from_db()
    assert case.status == "accepted"
    # Not allowed from here: a 409 with a clear message, nothing changes.
    resp = client.post(f"/complaints/{case.pk}/actions/close/", {"reply": "x"})
    assert resp.status_code == 409 and "不能执行" in resp.content.decode()
    # A stale form (someone else acted meanwhile) is refused.
    resp = client.post(f"/complaints/{case.pk}/actions/verify/", {"version": 1})
    assert resp.status_code == 409 and "刷新" in resp.content.decode()
    case.refresh_from_db()
    assert case.status == "accepted"


def test_reveal_on_the_page_is_logged(fc, bank):
    case, _ = submit_case(bank, anonymous=False, contact_name="黄小明", contact_phone="13812345678")
    client = logged_in(fc)
    html = client.get(f"/complaints/{case.pk}/").content.decode()
    assert "黄某" in html and "138****5678" in html and "黄小明" not in html
    resp = client.post(f"/complaints/{case.pk}/reveal/", {"reason": ""})
    assert resp.status_code == 400 and not PiiReveal.objects.exists()
    resp = client.post(f"/complaints/{case.pk}/reveal/", {"reason": "回访核实"})
    assert resp.status_code == 200 and "黄小明" in resp.content.decode() and "13812345678" in resp.content.decode()
    assert PiiReveal.objects.get().reason == "回访核实"


def test_head_page_never_shows_identity(fc, bank, head):
    case, _ = submit_case(bank, anonymous=False, contact_name="黄小明", contact_phone="13812345678",
                          images=[(process_image(make_image()), make_image())])
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    client = logged_in(head)
    html = client.get(f"/complaints/{case.pk}/").content.decode()
    assert "黄" not in html.replace("黄色", "") and "138" not in html and "身份信息受保护" in html
    assert client.post(f"/complaints/{case.pk}/reveal/", {"reason": "x"}).status_code == 403
    assert client.get(f"/complaints/{case.pk}/images/1/").status_code == 404
    assert logged_in(fc).get(f"/complaints/{case.pk}/images/1/").status_code == 200


def test_other_institution_head_gets_404(fc, bank, other_head):
    case, _ = submit_case(bank)
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    client = logged_in(other_head)
    assert client.get(f"/complaints/{case.pk}/").status_code == 404
    assert client.post(f"/complaints/{case.pk}/notes/", {"body": "x"}).status_code == 404
    assert client.get(f"/complaints/{case.pk}/images/1/").status_code == 404
    assert "共 0 件" in client.get("/complaints/").content.decode()


def test_discipline_page_sees_forwarded_only(fc, bank, discipline):
    forwarded, _ = submit_case(bank, kind="report", description="党员收礼")
    hidden, _ = submit_case(bank, kind="report", description="另一件")
    act(forwarded, "accept", fc)
    act(forwarded, "forward_discipline", fc)
    client = logged_in(discipline)
    html = client.get("/complaints/").content.decode()
    assert "共 1 件" in html and f"#{forwarded.pk}" in html
    assert client.get(f"/complaints/{hidden.pk}/").status_code == 404
    resp = client.post(f"/complaints/{forwarded.pk}/actions/conclude/", {"outcome": "substantiated"})
    assert resp.status_code == 302
    forwarded.refresh_from_db()
    assert forwarded.outcome == "substantiated"


def test_stats_page_and_exports(fc, bank):
    case, _ = submit_case(bank, kind="report")
    act(case, "accept", fc)
    act(case, "verify", fc)
    act(case, "conclude", fc, outcome="substantiated")
    submit_case(bank, kind="rating", description="", ratings={"attitude": 5, "efficiency": 4})
    client = logged_in(fc)
    html = client.get("/complaints/stats/").content.decode()
    assert "查实率" in html and bank.name in html
    xlsx = client.get("/complaints/stats/export/", {"format": "xlsx"})
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["概览", "按机构", "按月份", "满意率（机构×月）"]
    sat = list(book["满意率（机构×月）"].values)
    assert sat[1][0] == bank.code and "100.0" in [str(v) for v in sat[1]]
    rows = list(book["按机构"].values)
    assert rows[0][:3] == ("机构编码", "机构名称", "合计") and rows[1][0] == bank.code and rows[1][2] == 2
    csv = client.get("/complaints/stats/export/", {"format": "csv"})
    text = csv.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("机构编码,机构名称") and bank.code in text
    assert client.get("/complaints/stats/export/", {"format": "pdf"}).status_code == 404


def test_posters(fc, bank, other_bank):
    client = logged_in(fc)
    html = client.get(f"/complaints/posters/{bank.code}/").content.decode()
    assert bank.name in html and "清廉金融" in html and "一码举报" in html and "<svg" in html
    assert "@page" in html and "A4" in html and "匿名" in html
    assert f"/q/{bank.public_code}/" in html
    everything = client.get("/complaints/posters/")
    assert everything.streaming  # streamed from the stored file, not read into memory
    text = b"".join(everything.streaming_content).decode()
    assert everything["Content-Disposition"].startswith("attachment")
    assert everything["Content-Type"] == "text/html; charset=utf-8"
    assert bank.name in text and other_bank.name in text and text.count('class="poster"') == 2


def test_poster_scoping(bank, other_bank):
    filer = institution_user(bank, "institution_filer", username="filerp")
    client = logged_in(filer)
    assert client.get(f"/complaints/posters/{bank.code}/").status_code == 200
    assert client.get(f"/complaints/posters/{other_bank.code}/").status_code == 404
    assert client.get("/complaints/posters/").status_code == 403


def test_admin_pages_and_actions(fc, bank, other_bank, settings):
    submit_case(bank)
    client = logged_in(fc)
    for url in ("/admin/complaints/complaint/", "/admin/complaints/holidayyear/",
                "/admin/complaints/holidayyear/2026/change/",
                "/admin/complaints/institutionposter/", "/admin/complaints/piireveal/",
                "/admin/complaints/notification/", "/admin/complaints/questionnaire/",
                "/admin/complaints/surveyresponse/"):
        assert client.get(url).status_code == 200, url
    # All posters of the selection as one download.
    resp = client.post("/admin/complaints/institutionposter/", {
        "action": "download_posters", "_selected_action": [bank.pk, other_bank.pk]})
    assert resp.status_code == 200 and resp["Content-Disposition"].startswith("attachment")
    assert resp.getvalue().decode().count('class="poster"') == 2
    # A selection bigger than COMPLAINTS_POSTERS_INLINE, not made yet, is sent to the background path.
    settings.COMPLAINTS_POSTERS_INLINE = 1
    new = [InstitutionFactory(code=f"LQ-P{i}", name=f"新海报银行{i}") for i in range(2)]  # two codes never made
    resp = client.post("/admin/complaints/institutionposter/", {
        "action": "download_posters", "_selected_action": [bank.pk, *(i.pk for i in new)]}, follow=True)
    assert resp.status_code == 200 and "Content-Disposition" not in resp
    assert "尚未生成" in resp.content.decode() and "/complaints/posters/" in resp.content.decode()
    # Regenerating asks for confirmation first, then retires the old code.
    old = bank.public_code
    resp = client.post("/admin/complaints/institutionposter/", {"action": "regenerate_codes",
                                                                "_selected_action": [bank.pk]})
    assert resp.status_code == 200 and "确认" in resp.content.decode()
    bank.refresh_from_db()
    assert bank.public_code == old
    client.post("/admin/complaints/institutionposter/", {"action": "regenerate_codes", "_selected_action": [bank.pk],
                                                         "confirm": "yes"})
    bank.refresh_from_db()
    assert bank.public_code != old and RetiredPublicCode.objects.get().code == old


def test_admin_hidden_from_heads(fc, bank, head):
    case, _ = submit_case(bank)
    act(case, "accept", fc)
    act(case, "refer_institution", fc)
    client = logged_in(head)
    assert client.get("/admin/complaints/complaint/").status_code == 403
    assert client.get(f"/admin/complaints/complaint/{case.pk}/change/").status_code in (403, 302)
    assert client.get("/admin/complaints/holidayyear/").status_code == 403


def test_holiday_admin_edit_marks_a_new_year_known(fc, bank):
    # The holiday table is the installation's: a district's finance center reads it, only the
    # administrator changes it.
    form = {"year": "2027", "source": "国办发明电〔2026〕×号", "dates-TOTAL_FORMS": "1", "dates-INITIAL_FORMS": "0",
            "dates-MIN_NUM_FORMS": "0", "dates-MAX_NUM_FORMS": "1000", "dates-0-day": "2027-01-01",
            "dates-0-kind": "holiday", "dates-0-name": "元旦"}
    assert logged_in(fc).post("/admin/complaints/holidayyear/add/", form).status_code == 403
    assert not HolidayYear.objects.filter(year=2027).exists()
    client = logged_in(UserFactory(username="root", is_staff=True, is_superuser=True))
    resp = client.post("/admin/complaints/holidayyear/add/", {
        "year": "2027", "source": "国办发明电〔2026〕×号",
        "dates-TOTAL_FORMS": "2", "dates-INITIAL_FORMS": "0", "dates-MIN_NUM_FORMS": "0", "dates-MAX_NUM_FORMS": "1000",
        "dates-0-day": "2027-01-01", "dates-0-kind": "holiday", "dates-0-name": "元旦",
        "dates-1-day": "2026-12-31", "dates-1-kind": "holiday", "dates-1-name": "错年",
    })
    # A date outside the year is refused with a message, and nothing is stored.
    assert resp.status_code == 200 and "不在 2027 年内" in resp.content.decode()
    assert not HolidayYear.objects.filter(year=2027).exists() and not HolidayDate.objects.filter(name="错年").exists()
    resp = client.post("/admin/complaints/holidayyear/add/", {
        "year": "2027", "source": "国办发明电〔2026〕×号",
        "dates-TOTAL_FORMS": "1", "dates-INITIAL_FORMS": "0", "dates-MIN_NUM_FORMS": "0", "dates-MAX_NUM_FORMS": "1000",
        "dates-0-day": "2027-01-01", "dates-0-kind": "holiday", "dates-0-name": "元旦",
    })
    assert resp.status_code == 302
    assert HolidayYear.objects.filter(year=2027).exists()


def test_survey_links_download(bank, head):
    client = logged_in(head)
    assert client.get("/complaints/survey-links/").status_code == 200
    resp = client.post("/complaints/survey-links/", {"institution": bank.code, "count": "3", "label": "理赔结案"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    lines = resp.content.decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 4
    links = [line.split(",")[-1] for line in lines[1:]]
    assert all(re.match(r"http://testserver/s/[\w-]{20,}/$", link) for link in links)
    assert client.post("/complaints/survey-links/", {"institution": bank.code, "count": "0"}).status_code == 400
    other = institution_user(bank, "institution_filer", username="filer-x")
    assert logged_in(other).get("/complaints/survey-links/").status_code == 200
    emp = institution_user(bank, "employee", username="emp-x")
    assert logged_in(emp).get("/complaints/survey-links/").status_code == 403
