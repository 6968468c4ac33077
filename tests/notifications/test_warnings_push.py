"""A published warning pushes «收到 1 条新的警示信息» to each institution's robot: never the names."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import Message
from tests.warnings_feed.conftest import draft, org  # noqa: F401  (fixture)
from warnings_feed import push
from warnings_feed import services as warnings

pytestmark = pytest.mark.django_db


def test_a_fanned_out_warning_pushes_to_each_institution_without_names(channels_on, org,  # noqa: F811
                                                                       django_capture_on_commit_callbacks):
    services.save_preference(institution=org.a, channels=["dingtalk"],
                             dingtalk_webhook=f"{channels_on.url}/robot/send?access_token=bank-a",
                             dingtalk_secret="SEC-bank-a")
    services.save_preference(institution=org.b, channels=["wecom"],
                             wecom_webhook=f"{channels_on.url}/cgi-bin/webhook/send?key=ins-b")
    with django_capture_on_commit_callbacks(execute=True):
        warnings.publish(org.finance, draft())
    later = timezone.now() + timedelta(seconds=5)
    assert push.push_arrivals(now=later) == 2  # A and B have channels; C has none
    assert push.push_arrivals(now=later) == 0  # the sweep moved on
    assert services.send_due() == 2
    texts = {r.path: r.body["text"]["content"] for r in channels_on.received}
    assert texts["/robot/send"] == "【清廉金融】甲银行收到 1 条新的警示信息，请登录清廉金融门户查阅并确认知悉。"
    assert "乙保险" in texts["/cgi-bin/webhook/send"]
    for text in texts.values():
        assert "黄小明" not in text and "酒后" not in text
    robot = next(r for r in channels_on.received if r.path == "/robot/send")
    assert robot.query["access_token"] == "bank-a" and robot.query["sign"]
    assert set(Message.objects.values_list("institution__code", flat=True)) == {"A001", "B001"}
