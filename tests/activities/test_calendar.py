"""The programme calendar page and its iCalendar feed."""

import datetime as dt

import icalendar
import pytest

from activities import services
from scoring.models import Scheme

from .conftest import YEAR, client_for

pytestmark = pytest.mark.django_db


def test_feed_parses_and_holds_the_year(w):
    Scheme.objects.filter(pk=w.scheme.pk).update(self_due_date=dt.date(YEAR, 11, 30),
                                                 review_due_date=dt.date(YEAR, 12, 20))
    services.create_campaign(w.fc, services.CampaignInput(
        title="吃拿卡要专项治理; 第一阶段", kind="governance", starts_on=dt.date(YEAR, 3, 1),
        ends_on=dt.date(YEAR, 6, 30)))
    notice = services.publish_notice(w.fc, services.NoticeInput(title="报送通知，请注意", body="正文",
                                                                return_kind="file", return_within=5))
    page = client_for(w.filer).get(f"/activities/calendar/?year={YEAR}")
    assert page.status_code == 200
    text = page.content.decode()
    assert "吃拿卡要专项治理" in text and "自评填报" in text
    feed_url = page.context["feed_url"]
    from django.test import Client

    r = Client().get(feed_url.split("testserver", 1)[-1])  # calendar apps have no session
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(r.content)
    events = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    campaign = events["[专项治理] 吃拿卡要专项治理; 第一阶段"]
    assert campaign.decoded("DTSTART") == dt.date(YEAR, 3, 1)
    assert campaign.decoded("DTEND") == dt.date(YEAR, 7, 1)  # exclusive end
    assert f"[报送] 报送截止：{notice.title}" in events
    assert "[评价] 2026 年度考评截止" in events
    assert len({str(e["UID"]) for e in cal.walk("VEVENT")}) == len(cal.walk("VEVENT"))
    # Every line at most 75 octets (folded).
    assert all(len(line.encode()) <= 75 for line in r.content.decode().split("\r\n"))


def test_feed_token_is_checked(w):
    assert client_for(w.filer).get("/activities/calendar/forged.ics").status_code == 404
    page = client_for(w.filer_c).get("/activities/calendar/")
    assert "路桥" not in page.context["district"].name
    assert client_for(w.filer).get("/activities/calendar/?district=331002").status_code == 404
    assert client_for(w.fc).get("/activities/calendar/?district=331002").status_code == 404


def test_planned_visits_are_the_finance_centers_only(w):
    from inspections import services as inspections

    plan = inspections.create_plan(w.fc, w.a.district, YEAR)
    inspections.add_plan_entry(w.fc, plan, institution_code="A001", month=12, kind="unannounced")
    fc_page = client_for(w.fc).get(f"/activities/calendar/?year={YEAR}").content.decode()
    assert "计划督查：甲银行" in fc_page and f"{YEAR}-12-31" in fc_page
    assert "计划督查" not in client_for(w.filer).get(f"/activities/calendar/?year={YEAR}").content.decode()
