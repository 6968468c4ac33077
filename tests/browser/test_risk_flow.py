"""风险预警 in a browser: a filer uploads a CSV (preview, progress), screens, opens an alert and starts
its review; at 375 px the queue's cells are labelled. Screenshots where tests/browser/shots.py says."""

import pytest

from tests.browser.conftest import login
from tests.browser.shots import SHOTS
from tests.factories import EmployeeFactory, InstitutionFactory, institution_user

CSV = ("txn_id,employee_no,occurred_at,direction,amount,channel,counterparty_id,counterparty_name,"
       "counterparty_type,merchant_category\n"
       "W1,E1,2026-03-10 09:00:00,out,100.00,card,M1,某网站,merchant,7995\n")


@pytest.mark.django_db(transaction=True)
def test_upload_screen_and_review(new_page, live_server, tmp_path, reference_data):
    bank = InstitutionFactory(code="RW01", name="浏览器银行")
    EmployeeFactory(institution=bank, employee_no="E1")
    institution_user(bank, "institution_filer", username="risk_browser")
    page = new_page()
    login(page, live_server, "risk_browser")
    page.goto(f"{live_server.url}/risk/upload/")
    page.select_option("select[name=kind]", "transactions")
    file = tmp_path / "t.csv"
    file.write_text(CSV, encoding="utf-8")
    page.set_input_files("input[name=file]", str(file))
    page.wait_for_selector("#risk-preview table")
    page.click("#risk-upload button[type=submit]")
    page.wait_for_selector("text=已导入 1 行")
    page.fill("input[name=date_from]", "2026-01-01")
    page.fill("input[name=date_to]", "2026-12-31")
    page.click("form[action='/risk/screen/'] button")
    page.wait_for_selector("a:has-text('涉赌交易')")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "risk-queue.png"), full_page=True)
    page.click("a:has-text('涉赌交易')")
    page.click("button:has-text('开始核查')")
    page.wait_for_selector("dd:has-text('核查中')")
    page.screenshot(path=str(SHOTS / "risk-alert.png"), full_page=True)
    phone = new_page({"width": 375, "height": 800})
    login(phone, live_server, "risk_browser")
    phone.goto(f"{live_server.url}/risk/")
    assert phone.locator("td[data-label='规则']").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
