"""Business rules of the complaint intake, as plain functions (no ORM, no request).

- the state machine of DOMAIN.md ("Complaint lifecycle"), with who may do what;
- which statutory deadline is running in each state (the dates themselves: deadlines.py);
- validation of what the public types (mobile numbers, ratings, descriptions);
- masking, duplicate detection and satisfaction arithmetic.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.masking import mask_name
from core.workdays import DueDate

from . import deadlines as _deadlines

# --- states and actions ---------------------------------------------------------------------

RECEIVED, ACCEPTED, REJECTED, VERIFYING = "received", "accepted", "rejected", "verifying"
FORWARDED, REFERRED, CONCLUDED, CLOSED, MERGED = (
    "forwarded_discipline", "referred_institution", "concluded", "closed", "merged",
)
OPEN_STATES = frozenset({RECEIVED, ACCEPTED, VERIFYING, FORWARDED, REFERRED, CONCLUDED})
FINAL_STATES = frozenset({REJECTED, CLOSED, MERGED})
OUTCOMES = ("substantiated", "partially_substantiated", "unsubstantiated")

# Sides an actor may act for (a user may hold several).
FINANCE_CENTER, DISCIPLINE, INSTITUTION = "finance_center", "discipline", "institution"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    sides: frozenset[str]
    label: str
    needs: str = ""  # "reason", "outcome", "reply", "approval", "target", "basis"
    kinds: frozenset[str] | None = None  # None: every kind


_ALL_KINDS_BUT_RATING = frozenset({"suggestion", "complaint", "report"})
_FC = frozenset({FINANCE_CENTER})

TRANSITIONS: dict[str, Transition] = {
    "accept": Transition(frozenset({RECEIVED}), ACCEPTED, _FC, gettext_lazy("受理"), kinds=_ALL_KINDS_BUT_RATING),
    "reject": Transition(frozenset({RECEIVED}), REJECTED, _FC, gettext_lazy("不予受理"), needs="reason",
                         kinds=_ALL_KINDS_BUT_RATING),
    "verify": Transition(frozenset({ACCEPTED}), VERIFYING, _FC, gettext_lazy("开始初核")),
    "forward_discipline": Transition(frozenset({ACCEPTED, VERIFYING}), FORWARDED, _FC, gettext_lazy("移送区纪委监委")),
    # 交办: the institution replies by a due date; its reply is reviewed before the case concludes.
    "refer_institution": Transition(frozenset({ACCEPTED, VERIFYING}), REFERRED, _FC, gettext_lazy("交办被反映机构")),
    # The discipline commission records the outcome of what was forwarded to it; the finance
    # center concludes everything else (and may record the commission's outcome for it).
    "conclude": Transition(frozenset({VERIFYING, FORWARDED, REFERRED}), CONCLUDED,
                           frozenset({FINANCE_CENTER, DISCIPLINE}), gettext_lazy("作出结论"), needs="outcome"),
    "close": Transition(frozenset({CONCLUDED}), CLOSED, _FC, gettext_lazy("办结并答复"), needs="reply"),
    # A rating has no deadline and no verification: staff file it once read.
    "archive": Transition(frozenset({RECEIVED}), CLOSED, _FC, gettext_lazy("归档评价"), kinds=frozenset({"rating"})),
    "convert_to_report": Transition(frozenset({RECEIVED}), None, _FC, gettext_lazy("评价转为举报"), needs="reason",
                                    kinds=frozenset({"rating"})),
    "flag_party_member": Transition(frozenset({RECEIVED, ACCEPTED, VERIFYING}), None, _FC, gettext_lazy("标记涉及党员"),
                                    kinds=_ALL_KINDS_BUT_RATING),
    "extend": Transition(frozenset({RECEIVED, ACCEPTED, VERIFYING, FORWARDED, REFERRED}), None, _FC,
                         gettext_lazy("延长办理期限"), needs="reason", kinds=_ALL_KINDS_BUT_RATING),
    "merge": Transition(frozenset({RECEIVED, ACCEPTED, VERIFYING}), MERGED, _FC, gettext_lazy("合并至同类案件"),
                        needs="target", kinds=frozenset({"suggestion", "complaint"})),
    # The finance center names the basis the case is handled under (its deadlines follow it).
    "set_basis": Transition(frozenset({RECEIVED, ACCEPTED, VERIFYING}), None, _FC, gettext_lazy("变更办理依据"),
                            needs="basis", kinds=_ALL_KINDS_BUT_RATING),
}
ACTIONS = tuple(TRANSITIONS)


class TransitionError(Exception):
    """The action is not allowed now (409); `forbidden` means the actor may never do it (403)."""

    def __init__(self, message: str, *, forbidden: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


def check_transition(action: str, *, status: str, kind: str, sides: frozenset[str] | set[str],
                     extensions: int = 0, basis: str = _deadlines.FINANCIAL) -> str:
    """The state after `action`, or TransitionError saying why not. Pure: the caller stores it."""
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionError(_("未知的操作：{action}").format(action=action))
    if not (transition.sides & set(sides)):
        raise TransitionError(_("您无权执行“{action}”。").format(action=transition.label), forbidden=True)
    if transition.kinds is not None and kind not in transition.kinds:
        raise TransitionError(_("“{action}”不适用于此类案件。").format(action=transition.label))
    if status not in transition.sources:
        raise TransitionError(_("当前状态（{status}）不能执行“{action}”。").format(
            status=STATUS_LABELS.get(status, status), action=transition.label))
    if action == "extend" and extensions >= max_extensions(kind, basis):
        raise TransitionError(_("办理期限已延长至法定上限，不能再延期。"))
    return transition.target or status


def allowed_actions(*, status: str, kind: str, sides: frozenset[str] | set[str], extensions: int = 0,
                    basis: str = _deadlines.FINANCIAL) -> list[str]:
    out = []
    for action in ACTIONS:
        try:
            check_transition(action, status=status, kind=kind, sides=sides, extensions=extensions, basis=basis)
        except TransitionError:
            continue
        out.append(action)
    return out


STATUS_LABELS = {
    RECEIVED: gettext_lazy("已接收"),
    ACCEPTED: gettext_lazy("已受理"),
    REJECTED: gettext_lazy("不予受理"),
    VERIFYING: gettext_lazy("初核中"),
    FORWARDED: gettext_lazy("已移送区纪委监委"),
    REFERRED: gettext_lazy("已交办"),
    CONCLUDED: gettext_lazy("已出结论"),
    CLOSED: gettext_lazy("已办结"),
    MERGED: gettext_lazy("已合并办理"),
}


max_extensions = _deadlines.max_extensions
extension_needs_approval = _deadlines.extension_needs_approval


def extension_refusal(*, kind: str, basis: str, status: str) -> str:
    """Why an extension cannot be recorded now ("" when it can): a conclusion period runs from
    acceptance, so it can only be extended once the case is accepted."""
    if _deadlines.extended_key(kind, basis) == "conclude" and status == RECEIVED:
        return _("办结期限自受理之日起计算，请先受理再延长办结期限。")
    return ""


# --- 交办: the institution's reply ----------------------------------------------------------

# Entries of a case's trail made by its tracked item (督办事项), besides the actions above.
REPLY_EVENTS = {"reported": "institution_reply", "accepted": "reply_accepted", "returned": "reply_returned"}
REPLY_EVENT_LABELS = {
    "institution_reply": gettext_lazy("机构报送办理情况"),
    "reply_accepted": gettext_lazy("机构回复审核通过"),
    "reply_returned": gettext_lazy("机构回复被退回"),
}


def conclude_refusal(*, status: str, reply_state: str) -> str:
    """Why a case handed to an institution cannot be concluded yet ("" when it can): the institution's
    reply is reviewed, like a rectification report, and accepted before the case concludes."""
    if status != REFERRED or reply_state in ("", "accepted"):
        return ""
    if reply_state == "open":
        return _("交办事项尚待被反映机构回复；机构回复并审核通过（销号）后方可作出结论。")
    return _("被反映机构已回复，请先审核其回复（通过或退回）后再作出结论。")


# --- which deadline is running --------------------------------------------------------------


def active_deadline_keys(*, kind: str, status: str, anonymous: bool, involves_party_member: bool,
                         forwarded: bool, basis: str = _deadlines.FINANCIAL,
                         reply_pending: bool = True) -> frozenset[str]:
    """The deadlines (keys of deadlines.case_deadlines) that still bind a case in `status`."""
    if kind == "rating" or status in FINAL_STATES:
        return frozenset()
    keys: set[str] = set()
    if status == CONCLUDED:
        # Concluded: only telling a named reporter the result remains (closing sends the reply).
        return frozenset({"notify_result"}) if not anonymous else frozenset()
    if _deadlines.extended_key(kind, basis) == "decide":
        keys.add("decide")
    else:
        keys.add("accept" if status == RECEIVED else "conclude")
    if involves_party_member and not forwarded:
        keys.add("forward_discipline")
    if not anonymous and status == RECEIVED:
        keys.add("notify_acceptance")
    if status == REFERRED and reply_pending:
        keys.add("institution_reply")
    return frozenset(keys)


def next_deadline(deadlines: dict[str, DueDate], active: frozenset[str]) -> tuple[str, DueDate] | None:
    running = [(due.date, key, due) for key, due in deadlines.items() if key in active]
    if not running:
        return None
    _day, key, due = min(running)
    return key, due


DEADLINE_LABELS = {
    "decide": gettext_lazy("作出处理决定"),
    "accept": gettext_lazy("决定是否受理"),
    "conclude": gettext_lazy("办结"),
    "forward_discipline": gettext_lazy("移送区纪委监委"),
    "notify_acceptance": gettext_lazy("告知受理情况"),
    "notify_result": gettext_lazy("告知处理结果"),
    "institution_reply": gettext_lazy("机构回复交办事项"),
}


# --- public input ---------------------------------------------------------------------------

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_mobile(raw: str) -> str:
    """A mainland China mobile number as 11 digits, or ValueError with a message for the form."""
    value = unicodedata.normalize("NFKC", raw or "").strip()
    value = re.sub(r"[\s\-()（）]", "", value)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    if not _MOBILE.fullmatch(value):
        raise ValueError(_("请填写正确的中国大陆手机号码（11位，以1开头）。"))
    return value


def clean_person_name(raw: str) -> str:
    value = unicodedata.normalize("NFKC", raw or "").strip()
    if not value:
        raise ValueError(_("实名反映请填写姓名。"))
    if len(value) > 30:
        raise ValueError(_("姓名不超过30个字。"))
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise ValueError(_("姓名含有无效字符。"))
    return value


RATING_KEYS = ("attitude", "efficiency", "integrity")
RATING_LABELS = {
    "attitude": gettext_lazy("服务态度"),
    "efficiency": gettext_lazy("办事效率"),
    "integrity": gettext_lazy("廉洁自律"),
}


def clean_ratings(raw: dict | None) -> dict[str, int]:
    """Ratings 1–5 keyed attitude/efficiency/integrity; unknown keys or values are errors."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValueError(_("评分格式不正确，应为 {\"attitude\": 1-5, \"efficiency\": 1-5, \"integrity\": 1-5}。"))
    out: dict[str, int] = {}
    for key, value in raw.items():
        if key not in RATING_KEYS:
            raise ValueError(_("未知的评分项：{key}（可用：attitude、efficiency、integrity）。").format(key=key))
        if value in (None, ""):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(_("{item}评分须为1至5的整数。").format(item=RATING_LABELS[key]))
        if (isinstance(value, float | Decimal) and number != value) or isinstance(value, bool) or not 1 <= number <= 5:
            raise ValueError(_("{item}评分须为1至5的整数。").format(item=RATING_LABELS[key]))
        out[key] = number
    return out


def validate_submission(*, kind: str, description: str, ratings: dict[str, int], max_length: int) -> dict[str, str]:
    """Field → message for what is wrong with a submission's content (empty when fine)."""
    errors: dict[str, str] = {}
    if kind not in ("rating", "suggestion", "complaint", "report"):
        errors["kind"] = _("请选择类型：评价、意见建议、投诉或举报。")
        return errors
    if kind in ("complaint", "report") and not description.strip():
        errors["description"] = _("投诉、举报请填写反映内容。")
    if len(description) > max_length:
        errors["description"] = _("反映内容不超过{limit}字（当前{length}字）。").format(
            limit=max_length, length=len(description))
    if kind == "rating" and not ratings:
        errors["ratings"] = _("评价请至少选择一项评分。")
    return errors


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else "****"


def mask_person(name: str) -> str:
    """黄小明 → 黄某 (the portal's one definition of a masked name, core/masking.py)."""
    return mask_name(name) if name else ""


# --- duplicates -----------------------------------------------------------------------------


def _comparable(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    return "".join(ch for ch in text if ch.isalnum())


def text_similarity(a: str, b: str) -> float:
    """0..1, on letters and digits only (punctuation and spacing do not make texts different)."""
    x, y = _comparable(a), _comparable(b)
    if not x or not y:
        return 0.0
    return difflib.SequenceMatcher(None, x, y, autojunk=False).ratio()


DUPLICATE_SIMILARITY = 0.6


def is_probable_duplicate(*, a_staff: str, b_staff: str, a_text: str, b_text: str,
                          a_day: date, b_day: date, window_days: int) -> bool:
    """Same staff (or both unnamed), similar text, received within `window_days` of each other."""
    if _comparable(a_staff) != _comparable(b_staff):
        return False
    if abs((a_day - b_day).days) > window_days:
        return False
    return text_similarity(a_text, b_text) >= DUPLICATE_SIMILARITY


# --- satisfaction ---------------------------------------------------------------------------

# The default of settings.COMPLAINTS_SATISFIED_THRESHOLD: 满意 (4) and above. Zhejiang's 好差评
# practice counts 基本满意 (3) as good; the setting lets an installation follow it.
SATISFIED_FROM = Decimal(4)


def mean_rating(values: list[int]) -> Decimal | None:
    if not values:
        return None
    return (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_satisfied(values: list[int], threshold: Decimal = SATISFIED_FROM) -> bool | None:
    """Satisfied (满意) when the mean of the 1–5 ratings is at least `threshold` (4 unless the
    installation sets another, see selectors.satisfied_threshold); None without ratings."""
    mean = mean_rating(values)
    return None if mean is None else mean >= threshold


def satisfaction_rate(satisfied: int, rated: int) -> Decimal | None:
    """Percentage with one decimal (满意率), None when nobody rated."""
    if rated <= 0:
        return None
    return (Decimal(100) * satisfied / rated).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def substantiation_rate(substantiated: int, partially: int, concluded: int) -> Decimal | None:
    """Share of concluded cases found (at least partly) true, in percent with one decimal."""
    if concluded <= 0:
        return None
    return (Decimal(100) * (substantiated + partially) / concluded).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def answer_is_alarm(answer: str, alarm_answer: str) -> bool:
    return bool(alarm_answer) and answer == alarm_answer


# The case log's entries about the SMS to a named complainant (queued, sent, failed, not possible):
# the finance center's only (they show the masked number), never the institution's.
NOTICE_ACTIONS = frozenset({"notice_queued", "notice_sent", "notice_failed", "notice_skipped"})


# --- the monthly complaint tally (models.ComplaintTally) ---------------------------------------


def met_deadline(concluded_on: date, deadlines: dict) -> bool:
    """Concluded by the deciding deadline (decide for complaints/suggestions, conclude for reports);
    a case without either (a rating) is on time."""
    for key in ("decide", "conclude"):
        if key in (deadlines or {}):
            return concluded_on <= date.fromisoformat(deadlines[key]["date"])
    return True


TALLY_FIGURES = ("cases", "timed", "handling_days", "on_time", "rated", "satisfied", "scored", "score_sum")


@dataclass(frozen=True)
class TallyShare:
    """What one case adds to its tally row: the row's key (institution id, year and month of receipt
    in Asia/Shanghai, kind, outcome) and one value per TALLY_FIGURES."""

    key: tuple[int, int, int, str, str]
    cases: int = 1
    timed: int = 0  # concluded: receipt and conclusion both dated
    handling_days: int = 0  # calendar days from receipt to conclusion
    on_time: int = 0  # concluded by the deciding deadline (met_deadline)
    rated: int = 0  # a public rating with at least one 1–5 score
    satisfied: int = 0  # … whose given scores' mean is at least the threshold
    scored: int = 0  # all three scores given (the per-institution mean rating)
    score_sum: int = 0  # … their sum

    def figures(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in TALLY_FIGURES)


def tally_share(*, institution_id: int, kind: str, status: str, outcome: str, received_on: date,
                concluded_on: date | None, deadlines: dict, scores: tuple[int | None, int | None, int | None],
                threshold: Decimal) -> TallyShare | None:
    """The share of one case in the statistics' monthly tally, None for a merged duplicate (the
    statistics leave those out). Dates are Asia/Shanghai days."""
    if status == MERGED:
        return None
    given = [s for s in scores if s is not None]
    timed = concluded_on is not None
    rated = kind == "rating" and bool(given)
    scored = len(given) == 3
    return TallyShare(
        key=(institution_id, received_on.year, received_on.month, kind, outcome or ""),
        timed=int(timed), handling_days=(concluded_on - received_on).days if timed else 0,
        on_time=int(timed and met_deadline(concluded_on, deadlines)),
        # satisfied: the mean of the given scores at least the threshold, compared exactly (as the
        # statistics' SQL did), not after rounding the mean
        rated=int(rated), satisfied=int(rated and sum(given) >= threshold * len(given)),
        scored=int(scored), score_sum=sum(given) if scored else 0)
