"""A phone (375×812) opens the QR URL, submits a report with a photo, gets the receipt and tracks it;
the finance center concludes and replies in its own browser; the reply shows on tracking."""

import os
import shutil

import pytest

from complaints.models import Complaint, EvidenceImage
from tests.complaints.helpers import make_image
from tests.factories import InstitutionFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def chromium():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is missing under CI")
        pytest.skip("Chromium not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_phone_submit_track_and_staff_reply(reference_data, chromium, live_server, tmp_path):
    bank = InstitutionFactory(code="BR-01", name="演示路桥农商银行")
    UserFactory(username="finance-b", roles=["finance_center"], is_staff=True)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_image(size=(800, 600)))

    phone = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    contexts = [phone]
    try:
        page = phone.new_page()
        page.set_default_timeout(15000)
        errors = []
        page.on("console", lambda msg: errors.append(msg.text)
                if msg.type == "error" and "404" not in msg.text else None)
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

        # Scan the QR code: the form is titled with the institution and fits the phone.
        page.goto(f"{live_server.url}/q/{bank.public_code}/")
        assert bank.name in page.title()
        assert page.locator("h1").inner_text() == bank.name
        assert no_horizontal_scroll(page)
        page.set_viewport_size({"width": 320, "height": 700})
        assert no_horizontal_scroll(page), "the form must work at 320px"
        page.set_viewport_size(PHONE)

        page.locator("label.choice", has_text="举报").first.click()
        page.fill("textarea[name=description]", "办贷款时客户经理暗示要请客 <b>加急</b>")
        page.fill("input[name=staff_name]", "客户经理")
        page.set_input_files("input[name=images]", str(photo))
        page.click("button[type=submit].primary")

        # The receipt, large and copyable.
        code = page.locator("#receipt-code").inner_text().strip()
        assert len(code.replace("-", "")) == 20
        assert page.locator("input#receipt-copy").input_value() == code
        assert page.locator("button[data-copy]").is_visible()  # the JS enhancement loaded (CSP: script-src 'self')
        assert no_horizontal_scroll(page)
        case = Complaint.objects.get()
        assert case.kind == "report" and EvidenceImage.objects.filter(complaint=case).count() == 1

        # Track it.
        page.click("text=查询办理进度")
        page.fill("input[name=code]", code)
        page.click("button[type=submit]")
        assert page.locator("#status h2").inner_text() == "已接收"

        # The finance center handles it in its own browser.
        staff = chromium.new_context(viewport=PHONE, locale="zh-CN")
        contexts.append(staff)
        office = staff.new_page()
        office.set_default_timeout(15000)
        office.goto(f"{live_server.url}/accounts/login/")
        office.fill("input[name=username]", "finance-b")
        office.fill("input[name=password]", "Pass-word-123")
        office.click("button[type=submit]")
        office.wait_for_url(f"{live_server.url}/")
        office.goto(f"{live_server.url}/complaints/")
        office.click(f"a[href='/complaints/{case.pk}/']")
        office.wait_for_url(f"{live_server.url}/complaints/{case.pk}/")
        office.wait_for_load_state("load")  # content() mid-navigation returns the head only
        assert "决定是否受理" in office.content()
        assert "&lt;b&gt;加急&lt;/b&gt;" in office.content()  # the description is shown escaped
        # The photo (EXIF-free working copy) is served to staff.
        image = office.locator(".thumbs img")
        for _ in range(50):
            if image.evaluate("img => img.complete && img.naturalWidth > 0"):
                break
            office.wait_for_timeout(200)
        assert image.evaluate("img => img.naturalWidth") > 0

        def do(action, fill=None):
            form = office.locator(f"form[action='/complaints/{case.pk}/actions/{action}/']")
            for selector, value in (fill or {}).items():
                if selector.startswith("select"):
                    form.locator(selector).select_option(value)
                else:
                    form.locator(selector).fill(value)
            form.locator("button").click()
            office.wait_for_load_state()

        do("accept")
        assert office.locator("#case-status").inner_text() == "已受理"
        do("verify")
        do("conclude", {"select[name=outcome]": "substantiated"})
        assert office.locator("#case-status").inner_text() == "已出结论"
        do("close", {"textarea[name=reply]": "经核查属实，已责成该行严肃处理。感谢您的监督。"})
        assert office.locator("#case-status").inner_text() == "已办结"

        # The reply shows on the phone's tracking page.
        page.goto(f"{live_server.url}/q/track/")
        page.fill("input[name=code]", code)
        page.click("button[type=submit]")
        assert page.locator("#status h2").inner_text() == "已办结"
        assert "经核查属实，已责成该行严肃处理" in page.locator(".reply").inner_text()
        assert "属实" in page.locator("#status").inner_text()
        assert not errors, errors  # no CSP violations or script errors
    finally:
        for context in contexts:
            context.close()
