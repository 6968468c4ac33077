"""On a phone (375×812): an employee logs in, sees the unread warning, and taps 已阅知悉."""

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.warnings_feed.conftest import draft
from warnings_feed import services
from warnings_feed.models import Delivery

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed")]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PASSWORD = "Pass-word-123"
TITLE_SHOWN = "某银行员工黄某酒后驾车被查处"


@pytest.fixture
def reference_data(transactional_db):
    """What migrations load, re-created: an earlier transactional test anywhere in the suite may
    have flushed the database (and serialized rollback clashes with the content types that flush
    re-creates). Idempotent."""
    from django.contrib.auth.models import Group

    from institutions.models import District
    from institutions.roles import ROLE_NAMES

    city, _ = District.objects.get_or_create(code="3310", defaults={"name": "台州市", "level": "city"})
    District.objects.get_or_create(code="331004", defaults={"name": "路桥区", "parent": city})
    for role in ROLE_NAMES:
        Group.objects.get_or_create(name=role)


def test_employee_reads_and_acknowledges_on_a_phone(reference_data, live_server):
    bank = InstitutionFactory(code="A001", name="甲银行")
    other = InstitutionFactory(code="B001", name="乙保险", category="insurance")
    user = institution_user(bank, "employee", username="zhang")
    EmployeeFactory(institution=bank, name="张员工", user=user)
    EmployeeFactory(institution=other, name="乙员工")
    finance = UserFactory(username="fc", roles=["finance_center"])
    warning = services.publish(finance, draft(title="某银行员工黄小明酒后驾车被查处"))  # commits: fans out
    services.publish(finance, draft(title="乙保险内部警示", scope="institution", institution_code="B001"))
    assert Delivery.objects.filter(warning=warning).count() == 2
    try:
        # A thread of its own: Playwright's sync API refuses to start where another module's
        # session-wide browser keeps its event loop, and the page never touches the ORM.
        with ThreadPoolExecutor(max_workers=1) as pool:
            errors = pool.submit(on_a_phone, live_server.url).result()
        assert errors == []  # no failed loads, no Content-Security-Policy violations, no script errors
        delivery = Delivery.objects.get(warning=warning, employee__user=user)
        assert delivery.read_at is not None and delivery.acknowledged_at is not None
        assert not Delivery.objects.filter(employee__name="乙员工", read_at__isnull=False).exists()
    finally:
        connections.close_all()


def on_a_phone(url: str) -> list[str]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 375, "height": 812}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(15000)
            # A missing /favicon.ico is fine; any other failed load or console error is not.
            page.on("response", lambda response: errors.append(f"{response.status} {response.url}")
                    if response.status >= 400 and not response.url.endswith("/favicon.ico") else None)
            page.on("console", lambda message: errors.append(message.text)
                    if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
            read_and_acknowledge(url, page)
        finally:
            browser.close()
    return errors


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def read_and_acknowledge(url: str, page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/warnings/")
    expect(page).to_have_url(f"{url}/accounts/login/?next=/warnings/")
    page.get_by_label("用户名").fill("zhang")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()

    expect(page).to_have_url(f"{url}/warnings/")
    expect(page.get_by_test_id("unread-count")).to_have_text("1 条未读")
    item = page.get_by_role("link", name=TITLE_SHOWN)
    expect(item).to_be_visible()
    expect(item).to_contain_text("未读")
    html = page.content()
    assert "黄小明" not in html and "乙保险内部警示" not in html
    assert fits_the_screen(page)

    item.click()
    expect(page.get_by_role("heading", name=TITLE_SHOWN)).to_be_visible()
    button = page.get_by_role("button", name="已阅知悉")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box and box["height"] >= 44 and box["width"] >= 300  # a thumb-sized target
    assert fits_the_screen(page)
    button.click()

    expect(page).to_have_url(f"{url}/warnings/")
    expect(page.get_by_text("已确认知悉")).to_be_visible()
    expect(page.get_by_role("link", name=TITLE_SHOWN)).to_contain_text("已知悉")
    expect(page.get_by_test_id("unread-count")).to_have_count(0)
