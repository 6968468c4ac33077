"""Statutory deadlines for complaint-lifecycle cases (see DOMAIN.md, "Complaint lifecycle" and
"How periods are counted").

Pure functions only, so views, Celery reminders and tests share one definition of "due". Days are
counted by the portal's calendar (core/workdays.py) with the holiday schedule passed in as data
(complaints.selectors.holiday_schedule reads it from the holiday table):

- a period starts the day after its event (the event's own day never counts);
- a period in calendar days whose last day is a rest day (a weekend day that is not a make-up
  working day, or an official holiday) ends on the next working day;
- a report's conclusion runs from its acceptance, not its receipt;
- forwarding to the discipline commission (移送区纪委监委) runs from the day the involvement of a
  party member is identified;
- each case names its basis: the financial regulators' rules (by kind) or, because the finance
  center is a government body, the 信访工作条例 (2022).
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from core.workdays import DueDate, HolidaySchedule, add_calendar_days, add_working_days

__all__ = [
    "BASES",
    "FINANCIAL",
    "KINDS",
    "XINFANG",
    "case_deadlines",
    "due_status",
    "extended_key",
    "extension_needs_approval",
    "max_extensions",
]

KINDS: frozenset[str] = frozenset({"rating", "suggestion", "complaint", "report"})

# The two bases a case may be handled under (Complaint.Basis holds their labels).
FINANCIAL, XINFANG = "financial", "xinfang"
BASES: frozenset[str] = frozenset({FINANCIAL, XINFANG})

# Statute titles and basis texts below are data: each deadline's basis is stored with the case
# (Complaint.deadlines) as the record of the rule applied, in Chinese whatever the reader's language.
_COMPLAINT_RULE = "银行业保险业消费投诉处理管理办法"  # i18n-exempt: stored basis text
_REPORT_RULE = "银行保险违法行为举报处理办法"  # i18n-exempt: stored basis text
_DISCIPLINE_RULE = "纪检监察机关处理检举控告工作规则"  # i18n-exempt: stored basis text
_XINFANG_RULE = "信访工作条例"  # i18n-exempt: stored basis text

# Index = number of recorded extensions: 15 days, extended to 30, then a further 30 with approval.
_DECIDE_DAYS = (15, 30, 60)
_DECIDE_BASIS = (  # i18n-exempt: stored basis text
    f"收到后15日内作出处理决定（{_COMPLAINT_RULE}）",
    f"情况复杂，延长至30日内作出处理决定（{_COMPLAINT_RULE}）",
    f"经审批再延长30日，60日内作出处理决定（{_COMPLAINT_RULE}）",
)
_ACCEPT_DAYS = 15
# Index = number of recorded extensions: 60 days from acceptance, extendable once by 30.
_CONCLUDE_DAYS = (60, 90)
_CONCLUDE_BASIS = {  # i18n-exempt: stored basis text
    FINANCIAL: (f"受理后60日内办结（{_REPORT_RULE}）", f"延长30日，受理后90日内办结（{_REPORT_RULE}）"),
    XINFANG: (f"受理后60日内办结（{_XINFANG_RULE}）", f"经批准延长30日，受理后90日内办结（{_XINFANG_RULE}）"),
}
_ACCEPT_BASIS = {  # i18n-exempt: stored basis text
    FINANCIAL: f"收到后15日内决定是否受理（{_REPORT_RULE}）",
    XINFANG: f"收到后15日内决定是否受理（{_XINFANG_RULE}）",
}
_FORWARD_WORKING_DAYS = 5
_NOTIFY_WORKING_DAYS = 15
_ROLLED = "；期满日为休息日，顺延至下一工作日"  # i18n-exempt: stored basis text


def _uses_decide(kind: str, basis: str) -> bool:
    """Consumer complaints and suggestions under the regulators' rules have one "decide" period;
    reports (and every case under the 信访工作条例) are accepted, then concluded."""
    return basis == FINANCIAL and kind in ("complaint", "suggestion")


def max_extensions(kind: str, basis: str = FINANCIAL) -> int:
    """Complaints/suggestions: 15 → 30 → 60 days (the second with approval); reports: 60 → 90;
    under the 信访工作条例 every kind: 60 → 90 with approval. Ratings: none."""
    if kind not in KINDS or kind == "rating":
        return 0
    if basis == XINFANG:
        return 1
    return 2 if kind in ("complaint", "suggestion") else 1


def extension_needs_approval(kind: str, extensions_so_far: int, basis: str = FINANCIAL) -> bool:
    """消费投诉处理管理办法: the further 30 days need a recorded approval; 信访工作条例: any extension."""
    if basis == XINFANG:
        return kind != "rating"
    return kind in ("complaint", "suggestion") and extensions_so_far == 1


def extended_key(kind: str, basis: str = FINANCIAL) -> str:
    """The deadline an extension moves: ``decide`` or ``conclude``."""
    return "decide" if _uses_decide(kind, basis) else "conclude"


def _calendar_due(start: date, days: int, basis: str, schedule: HolidaySchedule) -> DueDate:
    due = add_calendar_days(start, days, schedule, basis=basis)
    if (due.date - start).days != days:
        due = DueDate(date=due.date, provisional=due.provisional, basis=basis + _ROLLED)
    return due


def case_deadlines(
    kind: str,
    received_on: date,
    *,
    anonymous: bool,
    schedule: HolidaySchedule,
    extensions: int = 0,
    concluded_on: date | None = None,
    accepted_on: date | None = None,
    identified_on: date | None = None,
    basis: str = FINANCIAL,
    referred_on: date | None = None,
    reply_working_days: int | None = None,
) -> dict[str, DueDate]:
    """All deadlines that apply to a case, keyed by step.

    Keys: ``decide`` (complaint, suggestion under the regulators' rules), ``accept`` and ``conclude``
    (reports, and every kind under the 信访工作条例; ``conclude`` once ``accepted_on`` is known),
    ``forward_discipline`` (once ``identified_on``, the day a party member's involvement was
    identified, is known), ``notify_acceptance`` and ``notify_result`` (named cases only; the
    latter once ``concluded_on`` is known), ``institution_reply`` (交办: ``reply_working_days``
    working days after ``referred_on``). Ratings have none.
    """
    if kind not in KINDS:
        raise ValueError(_("未知的案件类型：{kind}").format(kind=repr(kind)))
    if basis not in BASES:
        raise ValueError(_("未知的办理依据：{basis}").format(basis=repr(basis)))
    if extensions < 0:
        raise ValueError(_("延期次数不能为负数：{n}").format(n=extensions))
    for label, day in ((_("办结"), concluded_on), (_("受理"), accepted_on), (_("认定涉及党员"), identified_on),
                       (_("交办"), referred_on)):
        if day is not None and day < received_on:
            raise ValueError(_("{event}日期不能早于收到日期").format(event=label))
    if (referred_on is None) != (reply_working_days is None):
        raise ValueError(_("交办须同时给出交办日期和回复期限（工作日）"))

    if kind == "rating":
        # A rating has nothing to extend; accepting one would hide a data-entry mistake.
        if extensions:
            raise ValueError(_("评价不设办理期限，不能延期"))
        return {}
    if extensions > max_extensions(kind, basis):
        if _uses_decide(kind, basis):
            raise ValueError(_("投诉、意见建议最多延期两次（延长至30日，经审批再延长30日）"))
        raise ValueError(_("办结期限最多延长一次（30日）"))

    deadlines: dict[str, DueDate] = {}
    if _uses_decide(kind, basis):
        deadlines["decide"] = _calendar_due(received_on, _DECIDE_DAYS[extensions], _DECIDE_BASIS[extensions],
                                            schedule)
    else:
        deadlines["accept"] = _calendar_due(received_on, _ACCEPT_DAYS, _ACCEPT_BASIS[basis], schedule)
        if accepted_on is not None:
            deadlines["conclude"] = _calendar_due(accepted_on, _CONCLUDE_DAYS[extensions],
                                                  _CONCLUDE_BASIS[basis][extensions], schedule)

    if identified_on is not None:
        deadlines["forward_discipline"] = add_working_days(  # i18n-exempt: stored basis text
            identified_on, _FORWARD_WORKING_DAYS, schedule,
            basis=f"认定涉及党员后5个工作日内移送区纪委监委（{_DISCIPLINE_RULE}）",
        )
    if referred_on is not None and reply_working_days is not None:
        deadlines["institution_reply"] = add_working_days(  # i18n-exempt: stored basis text
            referred_on, reply_working_days, schedule,
            basis=f"交办后{reply_working_days}个工作日内由被反映机构回复办理情况",
        )

    # The discipline rules exempt anonymous cases from notification only; there is nobody to tell.
    if not anonymous:
        deadlines["notify_acceptance"] = add_working_days(  # i18n-exempt: stored basis text
            received_on,
            _NOTIFY_WORKING_DAYS,
            schedule,
            basis=f"收到后15个工作日内告知实名反映人受理情况（{_DISCIPLINE_RULE}）",
        )
        if concluded_on is not None:
            deadlines["notify_result"] = add_working_days(  # i18n-exempt: stored basis text
                concluded_on,
                _NOTIFY_WORKING_DAYS,
                schedule,
                basis=f"办结后15个工作日内告知实名反映人处理结果（{_DISCIPLINE_RULE}）",
            )
    return deadlines


def due_status(due: date, today: date, soon_days: int = 3) -> str:
    """``"overdue"`` after the due day, ``"due_soon"`` within ``soon_days`` of it, else ``"ok"``."""
    if soon_days < 0:
        raise ValueError(_("临期提醒天数不能为负数：{n}").format(n=soon_days))
    # The due day itself is still in time: "within N days" includes the Nth day.
    if today > due:
        return "overdue"
    if (due - today).days <= soon_days:
        return "due_soon"
    return "ok"
