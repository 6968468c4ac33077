"""What a district sends the day it publishes: the three letters, and the finance center's robots
(DingTalk, WeCom) told that they are ready; the self-assessment reminder on the institutions' channels."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services as notifications
from scoring import services
from scoring.models import LetterDispatch, LinkageLetter
from tests.linkage.conftest import YEAR, scored_year
from tests.scoring.factories import assessment_for, build_scheme, luqiao

from ..factories import InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def letters_root(settings, tmp_path):
    settings.SCORING_LETTERS_ROOT = str(tmp_path / "letters")


def test_publishing_makes_three_letters_and_tells_the_center_s_robots(channels_on, django_capture_on_commit_callbacks):
    finance = UserFactory(username="fc_pub", roles=["finance_center"], is_staff=True)
    scored_year()
    with django_capture_on_commit_callbacks(execute=True):
        services.open_notice(services.district_year(luqiao(), YEAR), finance)
    with django_capture_on_commit_callbacks(execute=True):
        services.publish_year(services.district_year(luqiao(), YEAR), finance)
    assert LinkageLetter.objects.count() == 3
    notifications.send_due()
    paths = sorted(r.path for r in channels_on.received)
    assert paths == ["/cgi-bin/webhook/send", "/robot/send"]
    text = channels_on.received[0].body["text"]["content"]
    assert f"路桥区 {YEAR} 年度清廉积分结果已发布，3 份结果运用函已生成" in text
    assert LetterDispatch.objects.filter(channel="notice").count() == 3


def test_the_self_assessment_reminder_goes_to_the_institution_s_phone(channels_on, settings):
    from scoring.tasks import remind_unsubmitted

    settings.SCORING_REMINDER_DAYS = 7
    scheme = build_scheme(YEAR, self_due_date=timezone.localdate() + timedelta(days=7))
    bank = InstitutionFactory(code="RM01", name="提醒银行")
    assessment_for(bank, scheme)
    notifications.save_preference(institution=bank, channels=["sms"], phone="13500135000")
    remind_unsubmitted()
    notifications.send_due()
    [got] = channels_on.received
    assert got.body["phone"] == "13500135000"
    assert got.body["text"].startswith(f"【清廉金融】提醒银行{YEAR} 年度清廉金融自评尚未提交，截止日期")
