"""The dashboards in Debian's Chromium: the charts are drawn (under the CSP), and a click drills down."""

import os
import shutil

import pytest

from .conftest import YEAR

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

# Transactional (the live server reads committed data); `dataset` re-creates the reference rows a flush removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing under CI")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_page(chromium, live_server, username, width=1280):
    context = chromium.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(20000)
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "favicon" not in m.text
            and "404" not in m.text else None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "Pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    return context, page, problems


def wait_for_charts(page, count):
    # Locators, not wait_for_function: the CSP (script-src 'self') forbids evaluating strings.
    page.locator('[data-chart][data-rendered="1"]').nth(count - 1).wait_for()
    assert page.locator('[data-chart][data-rendered="1"]').count() == count
    # ECharts draws on a canvas inside each chart box.
    assert page.eval_on_selector_all("[data-chart]", "els => els.every(e => e.querySelector('canvas, svg'))")


def test_district_dashboard_draws_charts_and_drills_into_an_institution(dataset, chromium, live_server):
    context, page, problems = open_page(chromium, live_server, dataset.finance.username)
    page.goto(f"{live_server.url}/dashboards/district/?district=331004&year={YEAR}")
    wait_for_charts(page, 8)
    assert "路桥区" in page.inner_text("h1")
    assert "+1.8" in page.inner_text(".kpis") and "−30.0%" in page.inner_text(".kpis")
    # The figures filled in from the charts' JSON: none left waiting, each as the API gives it.
    assert "…" not in page.inner_text(".kpis")
    api = page.request.get(f"{live_server.url}/api/v1/dashboards/district/satisfaction/?district=331004&year={YEAR}")
    assert page.inner_text("#kpi-satisfaction") == f"{float(api.json()['rate']):g}%"
    assert "个百分点" in page.inner_text(".kpis")
    # A click on the colour chart opens the rows behind it (once the ring has finished drawing itself).
    page.wait_for_timeout(1500)
    box = page.locator("#chart-colours").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 60, box["y"] + box["height"] * 0.58)
    page.wait_for_url("**/dashboards/district/rows/colours/**")
    assert "四色分布" in page.inner_text("h1")
    page.go_back()
    wait_for_charts(page, 8)
    # Drill into the first institution of the ranking.
    page.click("table.ranking a.drill >> nth=0")
    page.wait_for_url("**/dashboards/institutions/A/**")
    wait_for_charts(page, 5)
    assert "甲演示银行" in page.inner_text("h1")
    assert "1/4" in page.inner_text(".kpis")  # 区内排名 x/y: the stored rank
    assert problems == []
    context.close()


def test_phone_width_and_head_sees_only_their_own(dataset, chromium, live_server):
    context, page, problems = open_page(chromium, live_server, dataset.head_a.username, width=375)
    page.goto(f"{live_server.url}/dashboards/")
    page.wait_for_url("**/dashboards/institutions/A/")
    wait_for_charts(page, 5)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    response = page.goto(f"{live_server.url}/dashboards/institutions/B/")
    assert response.status == 404
    assert problems == []
    context.close()
