"""The programme's year in a browser: a filer records an activity and attaches it to the self sheet
with one click; the finance center publishes a notice asking a return, the filer returns it and the
finance center accepts it. Screenshots (activities-*.png) where tests/browser/shots.py says."""

import pytest
from django.utils import timezone

from activities.models import Activity, NoticeRecipient
from scoring.models import Evidence
from tests.browser.conftest import login
from tests.browser.shots import SHOTS
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import assessment_for, build_scheme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def year(reference_data, settings, tmp_path):
    settings.ACTIVITIES_FILES_ROOT = str(tmp_path / "files")
    scheme = build_scheme(timezone.localdate().year)
    bank = InstitutionFactory(code="W001", name="演示农商银行")
    InstitutionFactory(code="W002", name="演示财险", category="insurance")
    for n in range(1, 4):
        EmployeeFactory(institution=bank, employee_no=f"E{n}", name=f"员工{n}")
    institution_user(bank, "institution_filer", username="filer")
    UserFactory(username="finance", roles=["finance_center"], is_staff=True)
    return scheme, assessment_for(bank, scheme)


def test_filer_attaches_an_activity_and_finance_publishes_a_notice(new_page, live_server, year):
    scheme, assessment = year
    clause = scheme.norms.clauses.get(number="1.1")
    SHOTS.mkdir(parents=True, exist_ok=True)

    page = new_page()
    login(page, live_server, "filer")
    page.goto(f"{live_server.url}/activities/ledger/")
    page.click("#new-activity")
    page.select_option("#id_kind", label="警示教育展（警示教育）")
    page.fill("#id_title", "参观清廉金融警示教育展")
    page.fill("#id_held_on", f"{timezone.localdate().year}-03-12")
    page.fill("#id_place", "路桥区廉政教育基地")
    page.check("input[name=participants] >> nth=0")
    page.check(f"input[name=clauses][value='{clause.pk}']")
    page.click("#save-activity")
    page.wait_for_selector("text=活动已登记")
    assert Activity.objects.get().clauses.get() == clause
    page.goto(f"{live_server.url}/activities/ledger/")
    page.screenshot(path=str(SHOTS / "activities-ledger.png"), full_page=True)

    page.goto(f"{live_server.url}/scoring/assessments/{assessment.pk}/self/")
    page.click("#pick-evidence-B1")
    page.wait_for_selector("#evidence-options")
    page.screenshot(path=str(SHOTS / "activities-evidence-picker.png"), full_page=True)
    page.click("#evidence-options >> text=作为佐证")
    page.wait_for_selector("text=已作为佐证附到自评表")
    evidence = Evidence.objects.get()
    page.click("text=返回自评表")
    page.wait_for_selector(f"text={evidence.original_name}")

    finance = new_page()
    login(finance, live_server, "finance")
    finance.goto(f"{live_server.url}/activities/notices/")
    finance.click("summary")
    finance.fill("#id_title", "关于开展吃拿卡要问题自查的通知")
    finance.fill("#id_body", "各机构对照负面行为清单开展自查，报送自查报告。")
    finance.select_option("#id_return_kind", "form")
    finance.fill("#id_return_within", "5")
    finance.click("#publish-notice")
    finance.wait_for_selector("text=通知已发布")
    assert NoticeRecipient.objects.count() == 2

    page.goto(f"{live_server.url}/activities/notices/")
    page.click("text=关于开展吃拿卡要问题自查的通知")
    page.fill("#id_text", "已完成自查，未发现问题。")
    page.click("#submit-return")
    page.wait_for_selector("#return-status:has-text('已报送')")

    finance.reload()
    finance.click("#recipients >> text=通过")
    finance.wait_for_selector("text=已审核")
    assert NoticeRecipient.objects.get(institution__code="W001").return_status == "accepted"
    assert "已通过 1" in finance.text_content("#notice-stats")
    finance.screenshot(path=str(SHOTS / "activities-notice-overview.png"), full_page=True)

    finance.goto(f"{live_server.url}/activities/calendar/")
    finance.wait_for_selector("#calendar >> text=报送截止")
    finance.screenshot(path=str(SHOTS / "activities-calendar.png"), full_page=True)

    # The institution-year's archive: queued after the commit, built (Celery runs eagerly here).
    page.goto(f"{live_server.url}/activities/archives/")
    page.click("#build-archive")
    page.wait_for_selector("#archive-download")
    assert "已完成" in page.text_content("#archive-status")
    page.screenshot(path=str(SHOTS / "activities-archive.png"), full_page=True)

    phone = new_page(viewport={"width": 375, "height": 812})
    login(phone, live_server, "filer")
    phone.goto(f"{live_server.url}/activities/ledger/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 380
    phone.screenshot(path=str(SHOTS / "activities-ledger-375px.png"), full_page=True)
