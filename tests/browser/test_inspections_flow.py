"""An inspection as people click through it: the inspector records a visit with a photo and two
findings on a phone (375x812), the institution replies with evidence, the finance center returns
one and accepts the other, and the figures show it. Screenshots go where tests/browser/shots.py says."""

from pathlib import Path

import pytest
from PIL import Image

from inspections.models import Finding, Visit
from institutions.models import District
from tests.browser.conftest import login
from tests.browser.shots import SHOTS
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.inspections.conftest import make_norms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def district_2026(reference_data):
    make_norms(2026, District.objects.get(code="331004"), clauses=("1.1", "1.2", "3.2"))
    bank = InstitutionFactory(code="INS01", name="路桥演示农商银行")
    institution_user(bank, "institution_filer", username="filer")
    UserFactory(username="inspector", roles=["inspector"])
    UserFactory(username="finance", roles=["finance_center"], is_staff=True)
    return bank


def _photo(tmp_path) -> Path:
    path = tmp_path / "现场.jpg"
    Image.new("RGB", (640, 480), (180, 40, 30)).save(path, "JPEG")
    return path


def test_visit_findings_reply_return_accept(new_page, live_server, district_2026, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = new_page(PHONE)
    login(page, live_server, "inspector")
    page.click("text=督查检查")
    page.click("[data-testid=new-visit]")
    page.select_option("[data-testid=institution]", "INS01")
    page.fill("input[name=visited_on]", "2026-09-29")
    page.select_option("select[name=kind]", "unannounced")
    page.check("input[name=joint_with_discipline]")
    page.fill("input[name=team]", "王建国、陈思远")
    page.fill("input[name=people_met]", "行长、纪检联络员")
    page.fill("textarea[name=notes]", "暗访营业厅，查阅礼品登记簿。")
    page.set_input_files("input[name=photos]", str(_photo(tmp_path)))
    page.click("text=保存，继续登记问题")
    page.wait_for_selector("text=已记录督查")
    for clause, text, days in (("3.2", "营业厅未公示廉洁从业承诺", "5"), ("1.1", "礼品登记簿未按月登记", "3")):
        form = page.locator("[data-testid=finding-form]")
        form.locator("select[name=clause]").select_option(clause)
        form.locator("textarea[name=description]").fill(text)
        form.locator("input[name=rectify_within]").fill(days)
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"text={text}")
    assert page.locator("[data-testid=notice]").text_content().startswith("路金清整〔2026〕1号")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    # The photo is decoded before the screenshot (wait_for_function's string eval is refused by the CSP).
    assert page.evaluate("() => Promise.all([...document.querySelectorAll('.photos img')].map("
                         "i => i.decode().then(() => i.naturalWidth)))") == [640]
    page.screenshot(path=str(SHOTS / "inspections-visit-375px.png"), full_page=True)
    visit = Visit.objects.get()
    assert visit.kind == "unannounced" and visit.joint_with_discipline and visit.photos.count() == 1
    one, two = Finding.objects.order_by("id")
    assert (one.tracked_item.due_on.isoformat(), two.tracked_item.due_on.isoformat()) == ("2026-10-12", "2026-10-09")

    page = new_page(PHONE)
    login(page, live_server, "filer")
    page.click("text=整改督办")
    for finding in (one, two):
        page.goto(f"{live_server.url}/rectifications/{finding.pk}/")
        page.fill("textarea[name=measures]", f"已整改：{finding.description}")
        evidence = tmp_path / f"evidence-{finding.pk}.pdf"
        evidence.write_bytes(b"%PDF-1.4 evidence")
        page.set_input_files("input[name=evidence]", str(evidence))
        page.click("[data-testid=report-form] button[type=submit]")
        page.wait_for_selector("text=已报送整改情况")
    page.goto(f"{live_server.url}/rectifications/")
    page.screenshot(path=str(SHOTS / "inspections-institution-375px.png"), full_page=True)

    page = new_page()
    login(page, live_server, "finance")
    page.goto(f"{live_server.url}/rectifications/{one.pk}/")
    page.fill("[data-testid=return-form] textarea[name=reason]", "佐证材料不完整，请补充公示照片。")
    page.fill("[data-testid=return-form] input[name=rectify_within]", "3")
    page.click("[data-testid=return-form] button[type=submit]")
    page.wait_for_selector("text=已退回")
    page.goto(f"{live_server.url}/rectifications/{two.pk}/")
    page.click("[data-testid=accept-form] button[type=submit]")
    page.wait_for_selector("text=已审核通过")
    page.goto(f"{live_server.url}/rectifications/")
    figures = page.locator("[data-testid=figures]").text_content()
    assert "问题总数2" in figures.replace(" ", "").replace("\n", "")
    page.screenshot(path=str(SHOTS / "inspections-finance-center.png"), full_page=True)
    one.tracked_item.refresh_from_db()
    two.tracked_item.refresh_from_db()
    assert one.tracked_item.status == "open" and one.tracked_item.returns == 1
    assert two.tracked_item.status == "closed"
