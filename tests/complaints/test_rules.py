"""Pure rules: the state machine (every transition, allowed and forbidden), running deadlines,
input validation, duplicates and satisfaction arithmetic."""

from datetime import date
from decimal import Decimal

import pytest

from complaints import rules
from core.workdays import DueDate

FC = frozenset({rules.FINANCE_CENTER})
DISC = frozenset({rules.DISCIPLINE})
INST = frozenset({rules.INSTITUTION})
STATES = ["received", "accepted", "rejected", "verifying", "forwarded_discipline", "referred_institution",
          "concluded", "closed", "merged"]

# (action, kind) → {from state: to state}; every other state must be refused.
EXPECTED = {
    ("accept", "report"): {"received": "accepted"},
    ("reject", "complaint"): {"received": "rejected"},
    ("verify", "complaint"): {"accepted": "verifying"},
    ("forward_discipline", "report"): {"accepted": "forwarded_discipline", "verifying": "forwarded_discipline"},
    ("refer_institution", "suggestion"): {"accepted": "referred_institution", "verifying": "referred_institution"},
    ("conclude", "report"): {"verifying": "concluded", "forwarded_discipline": "concluded",
                             "referred_institution": "concluded"},
    ("close", "complaint"): {"concluded": "closed"},
    ("archive", "rating"): {"received": "closed"},
    ("convert_to_report", "rating"): {"received": "received"},
    ("flag_party_member", "report"): {"received": "received", "accepted": "accepted", "verifying": "verifying"},
    ("merge", "suggestion"): {"received": "merged", "accepted": "merged", "verifying": "merged"},
}


@pytest.mark.parametrize(("action", "kind"), list(EXPECTED))
@pytest.mark.parametrize("state", STATES)
def test_every_transition_allowed_or_refused(action, kind, state):
    allowed = EXPECTED[(action, kind)]
    if state in allowed:
        assert rules.check_transition(action, status=state, kind=kind, sides=FC) == allowed[state]
    else:
        with pytest.raises(rules.TransitionError) as err:
            rules.check_transition(action, status=state, kind=kind, sides=FC)
        assert not err.value.forbidden
        assert "不能执行" in err.value.message


def test_terminal_states_allow_nothing():
    for state in ("rejected", "closed", "merged"):
        for kind in ("rating", "suggestion", "complaint", "report"):
            assert rules.allowed_actions(status=state, kind=kind, sides=FC | DISC | INST) == []


def test_kind_restrictions():
    with pytest.raises(rules.TransitionError, match="不适用"):
        rules.check_transition("accept", status="received", kind="rating", sides=FC)
    with pytest.raises(rules.TransitionError, match="不适用"):
        rules.check_transition("archive", status="received", kind="complaint", sides=FC)
    with pytest.raises(rules.TransitionError, match="不适用"):
        rules.check_transition("merge", status="received", kind="report", sides=FC)


def test_discipline_may_only_conclude():
    assert rules.allowed_actions(status="forwarded_discipline", kind="report", sides=DISC) == ["conclude"]
    for action in ("accept", "reject", "verify", "forward_discipline", "refer_institution", "close", "extend"):
        with pytest.raises(rules.TransitionError) as err:
            rules.check_transition(action, status="received", kind="report", sides=DISC)
        assert err.value.forbidden


def test_institution_side_has_no_actions():
    for state in STATES:
        assert rules.allowed_actions(status=state, kind="complaint", sides=INST) == []
    with pytest.raises(rules.TransitionError) as err:
        rules.check_transition("conclude", status="referred_institution", kind="complaint", sides=INST)
    assert err.value.forbidden


def test_no_side_no_action():
    with pytest.raises(rules.TransitionError) as err:
        rules.check_transition("accept", status="received", kind="report", sides=frozenset())
    assert err.value.forbidden


def test_unknown_action():
    with pytest.raises(rules.TransitionError, match="未知"):
        rules.check_transition("delete", status="received", kind="report", sides=FC)


def test_extension_limits():
    assert rules.max_extensions("complaint") == 2 and rules.max_extensions("report") == 1
    rules.check_transition("extend", status="accepted", kind="complaint", sides=FC, extensions=1)
    with pytest.raises(rules.TransitionError, match="上限"):
        rules.check_transition("extend", status="accepted", kind="complaint", sides=FC, extensions=2)
    with pytest.raises(rules.TransitionError, match="上限"):
        rules.check_transition("extend", status="accepted", kind="report", sides=FC, extensions=1)
    assert rules.extension_needs_approval("complaint", 1)
    assert not rules.extension_needs_approval("complaint", 0)
    assert not rules.extension_needs_approval("report", 0)


@pytest.mark.parametrize(("kind", "status", "anonymous", "party", "forwarded", "expected"), [
    ("report", "received", True, False, False, {"accept"}),
    ("report", "received", False, False, False, {"accept", "notify_acceptance"}),
    ("report", "accepted", False, False, False, {"conclude"}),
    ("report", "verifying", True, True, False, {"conclude", "forward_discipline"}),
    ("report", "forwarded_discipline", True, True, True, {"conclude"}),
    ("complaint", "received", True, False, False, {"decide"}),
    ("suggestion", "referred_institution", True, False, False, {"decide", "institution_reply"}),
    ("complaint", "concluded", False, False, False, {"notify_result"}),
    ("complaint", "concluded", True, False, False, set()),
    ("complaint", "closed", False, False, False, set()),
    ("report", "rejected", False, False, False, set()),
    ("rating", "received", False, False, False, set()),
])
def test_active_deadlines(kind, status, anonymous, party, forwarded, expected):
    assert rules.active_deadline_keys(kind=kind, status=status, anonymous=anonymous, involves_party_member=party,
                                      forwarded=forwarded) == expected


def test_next_deadline_is_earliest_running():
    dues = {"accept": DueDate(date(2026, 3, 1), False, ""), "forward_discipline": DueDate(date(2026, 2, 20), True, ""),
            "conclude": DueDate(date(2026, 1, 1), False, "")}
    assert rules.next_deadline(dues, frozenset({"accept", "forward_discipline"}))[0] == "forward_discipline"
    assert rules.next_deadline(dues, frozenset()) is None


@pytest.mark.parametrize("raw", ["13812345678", "138 1234 5678", "+86 138-1234-5678", "008613812345678",
                                 "１３８１２３４５６７８"])
def test_mobile_numbers_accepted(raw):
    assert rules.normalize_mobile(raw) == "13812345678"


@pytest.mark.parametrize("raw", ["", "12812345678", "1381234567", "138123456789", "0576-88888888", "abc",
                                 "+1 4155552671"])
def test_mobile_numbers_refused(raw):
    with pytest.raises(ValueError, match="手机号码"):
        rules.normalize_mobile(raw)


def test_ratings_validation():
    assert rules.clean_ratings({"attitude": "5", "integrity": 1}) == {"attitude": 5, "integrity": 1}
    assert rules.clean_ratings(None) == {}
    for bad in ({"attitude": 6}, {"attitude": 0}, {"speed": 3}, {"attitude": 2.5}, {"attitude": "x"}, [1, 2],
                {"attitude": True}):
        with pytest.raises(ValueError):
            rules.clean_ratings(bad)


def test_submission_validation_messages():
    assert rules.validate_submission(kind="report", description=" ", ratings={}, max_length=2000) == {
        "description": "投诉、举报请填写反映内容。"}
    assert "kind" in rules.validate_submission(kind="bribe", description="x", ratings={}, max_length=2000)
    assert "ratings" in rules.validate_submission(kind="rating", description="", ratings={}, max_length=2000)
    assert "2000" in rules.validate_submission(kind="complaint", description="字" * 2001, ratings={},
                                               max_length=2000)["description"]
    assert rules.validate_submission(kind="rating", description="", ratings={"attitude": 4}, max_length=2000) == {}


def test_masks():
    assert rules.mask_phone("13812345678") == "138****5678"
    assert rules.mask_person("黄小明") == "黄某"
    assert rules.mask_person("欧阳娜娜") == "欧阳某"


def test_duplicates():
    a = "营业厅周末不开门，建议周六上午开放对公业务窗口。"
    b = "建议周六上午开放对公业务窗口，营业厅周末不开门！"
    assert rules.text_similarity(a, a) == 1.0
    assert rules.is_probable_duplicate(a_staff="", b_staff="", a_text=a, b_text=a + "谢谢",
                                       a_day=date(2026, 5, 1), b_day=date(2026, 5, 20), window_days=30)
    assert rules.text_similarity(a, b) > 0.5
    assert not rules.is_probable_duplicate(a_staff="张三", b_staff="李四", a_text=a, b_text=a,
                                           a_day=date(2026, 5, 1), b_day=date(2026, 5, 1), window_days=30)
    assert not rules.is_probable_duplicate(a_staff="", b_staff="", a_text=a, b_text=a,
                                           a_day=date(2026, 5, 1), b_day=date(2026, 7, 1), window_days=30)
    assert not rules.is_probable_duplicate(a_staff="", b_staff="", a_text=a, b_text="理财经理态度恶劣",
                                           a_day=date(2026, 5, 1), b_day=date(2026, 5, 2), window_days=30)


def test_satisfaction_arithmetic():
    assert rules.mean_rating([5, 4, 4]) == Decimal("4.33")
    assert rules.is_satisfied([4, 4, 4]) is True
    assert rules.is_satisfied([5, 3, 3]) is False
    assert rules.is_satisfied([]) is None
    assert rules.satisfaction_rate(2, 3) == Decimal("66.7")
    assert rules.satisfaction_rate(0, 0) is None
    assert rules.substantiation_rate(1, 1, 4) == Decimal("50.0")
    assert rules.answer_is_alarm("no", "no") and not rules.answer_is_alarm("yes", "no")
    assert not rules.answer_is_alarm("no", "")
