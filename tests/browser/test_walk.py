"""The browser walk (issue #12, item 8): each role through its main job, at 1366×900 and 375×812, in
Chinese and English, on the demo data. It fails on a console error, a 4xx/5xx (page or resource),
untranslated text in English, a raw code on a page (`submit_third_party`, `green`), a table cell
without its column label on a phone, or a page wider than the phone. Chinese screenshots are saved
(overwritten) as walk-<role>-<page>-<width>.png where tests/browser/shots.py says.

One live server, one browser, one context per role (logged in once; the viewport and the language
cookie change between passes)."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings

from tests.browser.shots import SHOTS
from tests.test_i18n import catalogue_entries

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
PASSWORD = "demo12345"

# Codes that must never reach a page as text.
RAW_CODES = re.compile(r"\b(?:submit|return|save)_(?:self|inspection|third_party)\b|"
                       r"\b(?:self_in_progress|self_submitted|in_review|not_started|third_party|forward_discipline|"
                       r"refer_institution)\b")
RAW_COLOURS = re.compile(r"(?<![A-Za-z-])(?:green|blue|yellow|red)(?![A-Za-z-])")
RAW_ACTIONS = re.compile(r"· (?:accept|verify|conclude|close|reject|extend)\b")
CJK = re.compile(r"[\u4e00-\u9fff]")


# Source strings that are also demo data (an issuer's name printed on a warning).
DATA_TOO = {"路桥区金融工作中心", "客户经理"}


def _messages() -> set[str]:
    """The catalogue's Chinese source strings: a text node of an English page equal to one of them
    was not translated."""
    return {e["msgid"].strip() for e in catalogue_entries() if len(e["msgid"]) >= 2 and CJK.search(e["msgid"])
            and "%(" not in e["msgid"] and "{" not in e["msgid"]} - DATA_TOO


@pytest.fixture
def demo(reference_data):
    """The demo district (the apps this walk visits), as `make run` seeds it."""
    from complaints.demo import seed_complaints
    from dashboards.demo import seed_history, seed_second_district
    from institutions import demo as registry
    from scoring.demo import seed_scoring
    from staff_points.demo import seed_employee_points
    from warnings_feed.demo import seed_warnings

    registry.seed_registry()
    registry.seed_users()
    for seeder in (seed_scoring, seed_employee_points, seed_complaints, seed_warnings, seed_second_district,
                   seed_history):
        seeder()


class Walk:
    def __init__(self, browser, server):
        self.browser, self.server = browser, server
        self.problems: list[str] = []
        self.messages = _messages()

    def context(self, username: str | None):
        # Reduced motion: charts draw without animation, so screenshots show them finished.
        context = self.browser.new_context(viewport=DESKTOP, locale="zh-CN", reduced_motion="reduce")
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"{page.url}: console {m.text}"))
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: script error {e}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.url}: HTTP {r.status}"))
        if username:
            page.goto(f"{self.server.url}/accounts/login/")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{self.server.url}/")
        return context, page

    @staticmethod
    def language(context, code: str, server) -> None:
        context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": code, "url": server.url}])

    def check(self, page, name: str, lang: str, size: dict) -> None:
        where = f"{name} [{lang} {size['width']}px]"
        text = page.inner_text("body")
        for pattern in (RAW_CODES, RAW_ACTIONS) + ((RAW_COLOURS,) if lang == "zh-hans" else ()):
            found = pattern.search(text)
            if found:
                self.problems.append(f"{where}: raw code “{found.group(0)}”")
        if lang == "en":
            nodes = page.evaluate("""() => {
                const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                while (walker.nextNode()) { const t = walker.currentNode.textContent.trim(); if (t) out.push(t); }
                document.querySelectorAll("[placeholder],[aria-label],[title],[data-label]").forEach(e => {
                    for (const a of ["placeholder", "aria-label", "title", "data-label"]) {
                        const v = (e.getAttribute(a) || "").trim(); if (v) out.push(v); } });
                return out; }""")
            untranslated = sorted({node for node in nodes if node in self.messages})
            if untranslated:
                self.problems.append(f"{where}: untranslated {untranslated[:5]}")
        if size is PHONE:
            unlabelled = page.eval_on_selector_all(
                "table.responsive td:not([data-label]):not([colspan])", "cells => cells.length")
            if unlabelled:
                self.problems.append(f"{where}: {unlabelled} table cells without a column label")
            wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if wide > 2:
                self.problems.append(f"{where}: the page is {wide}px wider than the phone")

    def visit(self, page, path: str, name: str, lang: str, size: dict, role: str) -> None:
        response = page.goto(f"{self.server.url}{path}")
        if response is None or response.status >= 400:
            self.problems.append(f"{name}: {path} answered {response.status if response else 'nothing'}")
        page.wait_for_load_state("load")
        # Charts fetch their data after the load: wait until each has drawn (or said it failed).
        page.wait_for_function("() => [...document.querySelectorAll('[data-chart]')]"
                               ".every(box => box.getAttribute('data-rendered'))")
        self.check(page, f"{role} {name}", lang, size)
        if lang == "zh-hans":
            page.screenshot(path=str(SHOTS / f"walk-{role}-{name}-{size['width']}.png"), full_page=True)


def _first_href(page, selector: str) -> str | None:
    link = page.query_selector(selector)
    return link.get_attribute("href") if link else None


def test_walk(browser, live_server, demo):
    from complaints.models import Complaint
    from institutions.models import Institution
    from scoring import selectors
    from scoring.models import Assessment

    started = time.monotonic()
    SHOTS.mkdir(parents=True, exist_ok=True)
    walk = Walk(browser, live_server)
    year = selectors.current_year()
    bank = Institution.objects.get(code="LQ-B01")
    assessment = Assessment.objects.get(institution=bank, year=year)
    case = Complaint.objects.filter(institution__district__code="331004").order_by("pk").first()

    journeys = {
        "finance": [("home", "/"), ("year", f"/scoring/years/{year}/"), ("queue", "/complaints/"),
                    ("case", f"/complaints/{case.pk}/" if case else "/complaints/")],
        "filer": [("home", "/"), ("scoring", "/scoring/"), ("sheet", f"/scoring/assessments/{assessment.pk}/self/")],
        "head": [("home", "/"), ("assessment", f"/scoring/assessments/{assessment.pk}/"),
                 ("staff", "/points/staff/")],
        "inspector": [("home", "/"), ("scoring", "/scoring/"),
                      ("sheet", f"/scoring/assessments/{assessment.pk}/inspection/")],
        "thirdparty": [("home", "/"), ("scoring", "/scoring/")],
        "employee": [("home", "/"), ("warnings", "/warnings/"), ("portrait", "/points/me/")],
        "city": [("home", "/"), ("city", "/dashboards/city/")],
    }
    for role, pages in journeys.items():
        context, page = walk.context(role)
        for lang in ("zh-hans", "en"):
            Walk.language(context, lang, live_server)
            for size in (DESKTOP, PHONE):
                page.set_viewport_size(size)
                for name, path in pages:
                    walk.visit(page, path, name, lang, size, role)
        context.close()

    # The public on a phone: the form behind the QR code, then the receipt with its picture.
    context, page = walk.context(None)
    page.set_viewport_size(PHONE)
    walk.visit(page, f"/q/{bank.public_code}/", "form", "zh-hans", PHONE, "public")
    page.check("input[name=kind][value=suggestion]")
    page.fill("textarea[name=description]", "营业厅排队时间较长，建议增加窗口。")
    anonymous = page.query_selector("input[name=anonymous][value='1']")
    if anonymous:
        anonymous.check()
    consent = page.query_selector("input[name=consent]")
    if consent:
        consent.check()
    page.click("form button[type=submit]")
    page.wait_for_selector("#receipt-code")
    walk.check(page, "public receipt", "zh-hans", PHONE)
    page.screenshot(path=str(SHOTS / "walk-public-receipt-375.png"), full_page=True)
    assert page.query_selector("[data-testid=receipt-image]") is not None
    # The code on one line (never broken inside a group of four), within the phone's width.
    box = page.eval_on_selector("#receipt-code",
                                "e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().height]")
    assert box[0] <= box[1] + 1 and box[2] < 45, box
    context.close()

    assert not walk.problems, "\n".join(walk.problems[:40])
    print(f"walk: {time.monotonic() - started:.0f} s")  # a figure, not an assertion
