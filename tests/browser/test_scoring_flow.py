"""A year in the portal, as people click through it: filer saves, head submits, inspector scores,
the finance center aggregates, and the result appears."""

from pathlib import Path

import pytest
from django.core.management import call_command

from institutions.models import Institution
from scoring import services
from scoring.models import Assessment, Assignment, Result, Scheme
from tests.browser.conftest import login
from tests.factories import UserFactory, institution_user

DATA = Path(__file__).resolve().parent.parent / "data"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def year_2030(reference_data):
    call_command("import_institutions", str(DATA / "worked_example_institutions.csv"))
    call_command("import_scheme", "--year", "2030", str(DATA / "worked_example_norms.csv"),
                 str(DATA / "worked_example_indicators.csv"), "--activate")
    for year in services.district_years_using(Scheme.objects.get(year=2030)):
        services.open_year(year)
    bank = Institution.objects.get(code="W001")
    institution_user(bank, "institution_filer", username="filer")
    institution_user(bank, "institution_head", username="head")
    inspector = UserFactory(username="inspector", roles=["inspector"])
    Assignment.objects.create(user=inspector, institution=bank, year=2030, source="inspection")
    UserFactory(username="finance", roles=["finance_center"], is_staff=True)
    return Assessment.objects.get(institution=bank, year=2030)


def fill(page, values):
    for code, value in values.items():
        selector = f"[name=value_{code}]"
        if code.startswith("R"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)


def test_filer_head_inspector_finance(new_page, live_server, year_2030):
    assessment = year_2030
    page = new_page()
    login(page, live_server, "filer")
    page.click("text=清廉积分测评")
    page.click("text=机构自评")
    fill(page, {"B1": "40", "B2": "38", "B3": "20", "X1": "6", "X2": "6", "R1": "0"})
    page.click("#save-draft")
    page.wait_for_selector("text=已保存草稿")
    assert page.text_content("#filled") == "6"
    assert page.locator("#go-submit").count() == 0  # only the head submits

    page = new_page()
    login(page, live_server, "head")
    page.goto(f"{live_server.url}/scoring/assessments/{assessment.pk}/self/")
    page.click("#go-submit")
    page.click("#confirm-submit")
    page.wait_for_selector("text=评分表已提交")
    assert page.text_content("#sheet-status") == "已提交"
    assert page.locator("#save-draft").count() == 0  # read-only now

    page = new_page()
    login(page, live_server, "inspector")
    page.click("text=清廉积分测评")
    page.click("text=检查组考评")
    assert "40" in page.text_content("#row-B1")  # the institution's claim beside the inspector's input
    fill(page, {"B1": "36", "B2": "30", "B3": "18", "X1": "6", "X2": "5", "R1": "0"})
    page.click("#save-draft")
    page.wait_for_selector("text=已保存草稿")
    page.click("#go-submit")
    page.click("#confirm-submit")
    page.wait_for_selector("text=评分表已提交")

    page = new_page()
    login(page, live_server, "finance")
    page.goto(f"{live_server.url}/scoring/years/2030/")
    page.click("#run-aggregation")
    page.wait_for_selector("#run-status", timeout=60000)
    page.wait_for_function("document.getElementById('run-status').textContent !== '排队中'"
                           " && document.getElementById('run-status').textContent !== '运行中'", timeout=60000)
    assert page.text_content("#run-status") == "已完成", page.text_content("#run")
    row = page.locator("tr", has_text="示例银行")
    assert "98.00" in row.text_content()
    result = Result.objects.get(year=2030)
    assert str(result.total) == "98.00" and result.status == "provisional"
