"""Guidance and confirmations on the pages (issue #12, items 3-6): the filer sees who submits and by
when, institutions read state labels that mean what they say, the history reads in words, reviewers
see the institution's evidence beside each indicator, irreversible district-wide actions ask first
and name what will change, tables carry their column labels for phones, the receipt is an inline
picture, the annual report defaults to the user's district, rates below the minimum sample say so."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from scoring import services
from scoring.models import AggregationRun, Assessment, AssessmentEvent, Evidence, Scheme
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import WORKED_SHEETS, assessment_for, assign, build_scheme, fill_sheet, luqiao

pytestmark = pytest.mark.django_db

YEAR = 2032


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def scheme(db):
    scheme = build_scheme(YEAR)
    Scheme.objects.filter(pk=scheme.pk).update(self_due_date=f"{YEAR + 1}-01-31")
    return Scheme.objects.get(pk=scheme.pk)


@pytest.fixture
def bank(db):
    return InstitutionFactory(code="G001", name="引导银行")


@pytest.fixture
def finance(db):
    return UserFactory(username="fc-guide", roles=["finance_center"], is_staff=True)


def test_filer_sees_who_submits_and_by_when(scheme, bank):
    filer = institution_user(bank, "institution_filer")
    assessment = assessment_for(bank, scheme)
    client = client_of(filer)
    listing = client.get("/scoring/", {"year": YEAR}).content.decode()
    assert "机构负责人核对后提交" in listing and f"{YEAR + 1}-01-31" in listing
    sheet = client.get(f"/scoring/assessments/{assessment.pk}/self/").content.decode()
    assert 'id="who-submits"' in sheet and "机构负责人核对后提交" in sheet
    head = institution_user(bank, "institution_head")
    assert 'id="who-submits"' not in client_of(head).get(f"/scoring/assessments/{assessment.pk}/self/").content.decode()


def test_institutions_read_what_the_state_means_and_the_history_in_words(scheme, bank):
    head = institution_user(bank, "institution_head")
    assessment = assessment_for(bank, scheme, state=Assessment.State.SCORED)
    AssessmentEvent.objects.create(assessment=assessment, action="submit_third_party", source="third_party",
                                   from_state="in_review", to_state="in_review")
    AssessmentEvent.objects.create(assessment=assessment, action="return_inspection", source="inspection",
                                   from_state="in_review", to_state="self_submitted", reason="补充佐证")
    html = client_of(head).get(f"/scoring/assessments/{assessment.pk}/").content.decode()
    assert "考评完成，结果待公示" in html
    history = html.split('data-testid="history"', 1)[1].split("</ol>", 1)[0]
    assert "提交了第三方测评" in history and "退回了检查组考评" in history and "补充佐证" in history
    assert "submit_third_party" not in history and "return_inspection" not in history
    assert "状态由“考评中”变为“自评已提交”" in history
    assert "考评中 → 考评中" not in html


def test_reviewer_sees_the_institutions_evidence_beside_each_indicator(scheme, bank):
    inspector = UserFactory(username="insp-guide", roles=["inspector"])
    assessment = assessment_for(bank, scheme)
    fill_sheet(assessment, "self", WORKED_SHEETS["self"])
    assign(inspector, bank, YEAR, "inspection")
    entry = assessment.sheets.get(source="self").entries.select_related("indicator").first()
    Evidence.objects.create(entry=entry, file=SimpleUploadedFile("制度.pdf", b"%PDF-1.4"), original_name="制度.pdf",
                            content_type="application/pdf", size=8, sha256="0" * 64)
    html = client_of(inspector).get(f"/scoring/assessments/{assessment.pk}/inspection/").content.decode()
    claim = html.split(f'id="row-{entry.indicator.code}"', 1)[1].split("</tr>", 1)[0]
    assert "制度.pdf" in claim and 'class="claim"' in claim


def test_year_page_asks_before_locking_and_publishing_and_names_what_changes(scheme, bank, finance):
    assessment = assessment_for(bank, scheme)
    for source, values in WORKED_SHEETS.items():
        fill_sheet(assessment, source, values)
    services.execute_run(AggregationRun.objects.create(year=YEAR, district=luqiao()).pk)
    client = client_of(finance)
    html = client.get(f"/scoring/years/{YEAR}/").content.decode()
    confirm = html.split('id="confirm-notice"', 1)[1].split("</details>", 1)[0]
    assert "<summary>" in confirm and "路桥区" in confirm and str(YEAR) in confirm and "1 家" in confirm
    assert 'id="confirm-notice-button"' in confirm  # the real button sits inside the confirmation
    # Phones: every cell of the institutions' table names its column.
    table = html.split('<table class="responsive">', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    assert body.count("<td") == body.count("data-label=") > 0
    assert 'data-label="机构自评"' in body
    dy = services.district_year(luqiao(), YEAR)
    services.open_notice(dy, finance)
    html = client.get(f"/scoring/years/{YEAR}/").content.decode()
    assert 'id="confirm-publish"' in html and "结果运用" in html


def test_staff_colours_by_label(db):
    from staff_points import services as points  # noqa: F401  (the page reads them through its view)

    bank = InstitutionFactory(code="S001")
    head = institution_user(bank, "institution_head")
    html = client_of(head).get("/points/staff/").content.decode()
    assert not re.search(r">\s*(green|blue|yellow|red)\s*<", html)


def test_queue_links_to_the_posters_page_not_the_admin(finance):
    html = client_of(finance).get("/complaints/").content.decode()
    assert "/complaints/posters/" in html and "/admin/complaints/institutionposter/" not in html


def test_reports_default_to_the_dashboards_district(finance):
    UserFactory(username="fc-both", roles=["finance_center"], roles__districts=["331002", "331004"])
    from django.contrib.auth import get_user_model

    both = get_user_model().objects.get(username="fc-both")
    html = client_of(both).get("/dashboards/reports/", {"district": "331004"}).content.decode()
    assert re.search(r'<option value="331004" selected>', html)
    assert not re.search(r'<option value="331002" selected>', html)


def test_receipt_picture_is_inline(db):
    bank = InstitutionFactory(code="R001")
    client = Client()
    form = client.get(f"/q/{bank.public_code}/").content.decode()
    token = re.search(r'name="token" value="([^"]+)"', form).group(1)
    page = client.post(f"/q/{bank.public_code}/", {"kind": "suggestion", "description": "建议", "anonymous": "1",
                                                   "token": token})
    html = page.content.decode()
    assert 'src="data:image/png;base64,' in html and 'data-testid="receipt-image"' in html
    image_token = re.search(r'name="t" value="([^"]+)"', html).group(1)
    picture = client.post("/q/receipt.png", {"t": image_token})
    assert picture.status_code == 200 and picture["Content-Disposition"].startswith("inline")
