from datetime import datetime, timedelta

import pytest

from accounts.services import base_username, unique_usernames
from warnings_feed import rules

NOW = datetime(2026, 6, 10, 9, 0)


@pytest.mark.parametrize(("part", "total", "expected"), [(0, 0, None), (0, 5, 0.0), (1, 3, 33.3), (2, 3, 66.7),
                                                         (5, 5, 100.0)])
def test_rate(part, total, expected):
    assert rules.rate(part, total) == expected


def test_scope_errors_require_exactly_the_target_of_the_scope():
    assert rules.scope_errors("district", "", "") == {}
    assert rules.scope_errors("category", "bank", "") == {}
    assert rules.scope_errors("institution", "", "A001") == {}
    assert set(rules.scope_errors("category", "", "")) == {"category"}
    assert set(rules.scope_errors("institution", "", "")) == {"institution_code"}
    assert set(rules.scope_errors("district", "bank", "A001")) == {"category", "institution_code"}
    assert set(rules.scope_errors("city", "", "")) == {"scope"}


def test_finance_center_publishes_anywhere():
    for scope in rules.SCOPES:
        assert rules.publish_refusal(is_finance_center=True, head_of=set(), scope=scope, institution_id=None) is None


def test_head_publishes_to_own_institution_only():
    assert rules.publish_refusal(is_finance_center=False, head_of={1}, scope="institution", institution_id=1) is None
    other = rules.publish_refusal(is_finance_center=False, head_of={1}, scope="institution", institution_id=2)
    unknown = rules.publish_refusal(is_finance_center=False, head_of={1}, scope="institution", institution_id=None)
    assert other and other == unknown  # an unknown code and another institution's look the same
    assert "本机构" in rules.publish_refusal(is_finance_center=False, head_of={1}, scope="district",
                                         institution_id=None)


def test_others_may_not_publish():
    assert rules.publish_refusal(is_finance_center=False, head_of=set(), scope="institution", institution_id=1)


def test_reminder_due():
    delivered = NOW - timedelta(days=4)
    kwargs = {"now": NOW, "after_days": 3, "max_reminders": 2}
    assert rules.reminder_due(delivered_at=delivered, acknowledged_at=None, reminded_at=None, reminders=0, **kwargs)
    assert not rules.reminder_due(delivered_at=NOW - timedelta(days=2), acknowledged_at=None, reminded_at=None,
                                  reminders=0, **kwargs)
    assert not rules.reminder_due(delivered_at=delivered, acknowledged_at=NOW, reminded_at=None, reminders=0,
                                  **kwargs)
    assert not rules.reminder_due(delivered_at=delivered, acknowledged_at=None, reminded_at=NOW - timedelta(days=1),
                                  reminders=1, **kwargs)
    assert rules.reminder_due(delivered_at=NOW - timedelta(days=9), acknowledged_at=None,
                              reminded_at=NOW - timedelta(days=3), reminders=1, **kwargs)
    assert not rules.reminder_due(delivered_at=NOW - timedelta(days=9), acknowledged_at=None,
                                  reminded_at=NOW - timedelta(days=3), reminders=2, **kwargs)


def test_acknowledged_on_time():
    assert rules.acknowledged_on_time(NOW, NOW + timedelta(days=3), 3)
    assert not rules.acknowledged_on_time(NOW, NOW + timedelta(days=3, seconds=1), 3)
    assert not rules.acknowledged_on_time(NOW, None, 3)


def test_shown_text_masks_for_everyone_but_the_finance_center():
    text = "关于黄小明违规问题的通报：员工欧阳娜娜收受礼品"
    assert rules.shown_text(text, ["黄小明"], reveal_names=True) == text
    masked = rules.shown_text(text, ["黄小明"], reveal_names=False)
    assert masked == "关于黄某违规问题的通报：员工欧阳某收受礼品"


def test_split_names():
    assert rules.split_names(" 黄小明，欧阳娜娜、李四 黄小明\n王五") == ["黄小明", "欧阳娜娜", "李四", "王五"]
    assert rules.split_names("") == []


def test_issuer_name():
    assert rules.issuer_name(scope="institution", institution_name="甲银行", district_name="路桥区",
                             published_by_head=True) == "甲银行"
    assert rules.issuer_name(scope="institution", institution_name="甲银行", district_name="路桥区",
                             published_by_head=False) == "路桥区金融工作中心"


def test_usernames_are_unique_and_clean():
    assert base_username("LQ-B01", "E 001/张") == "lq-b01-e001"
    assert unique_usernames(["a", "a", "b"], {"b"}) == ["a", "a-2", "b-2"]
