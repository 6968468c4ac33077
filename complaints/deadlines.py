"""Statutory deadlines for complaint-lifecycle cases (see DOMAIN.md, "Complaint lifecycle").

Pure functions only, so views, Celery reminders and tests share one definition of "due". Working
days are counted by the portal's calendar (core/workdays.py) with the holiday schedule passed in
as data (complaints.selectors.holiday_schedule reads it from the holiday table).
"""

from __future__ import annotations

from datetime import date, timedelta

from core.workdays import DueDate, HolidaySchedule, add_working_days

__all__ = ["KINDS", "case_deadlines", "due_status"]

KINDS: frozenset[str] = frozenset({"rating", "suggestion", "complaint", "report"})

_COMPLAINT_RULE = "银行业保险业消费投诉处理管理办法"
_REPORT_RULE = "银行保险违法行为举报处理办法"
_DISCIPLINE_RULE = "纪检监察机关处理检举控告工作规则"

# Index = number of recorded extensions: 15 days, extended to 30, then a further 30 with approval.
_DECIDE_DAYS = (15, 30, 60)
_DECIDE_BASIS = (
    f"收到后15日内作出处理决定（{_COMPLAINT_RULE}）",
    f"情况复杂，延长至30日内作出处理决定（{_COMPLAINT_RULE}）",
    f"经审批再延长30日，60日内作出处理决定（{_COMPLAINT_RULE}）",
)
_ACCEPT_DAYS = 15
# Index = number of recorded extensions: 60 days, extendable once by 30.
_CONCLUDE_DAYS = (60, 90)
_CONCLUDE_BASIS = (
    f"60日内办结（{_REPORT_RULE}）",
    f"延长30日，90日内办结（{_REPORT_RULE}）",
)
_FORWARD_WORKING_DAYS = 5
_NOTIFY_WORKING_DAYS = 15


def _calendar_due(start: date, days: int, basis: str) -> DueDate:
    # The rules count natural days from receipt, so the holiday schedule cannot move these.
    return DueDate(date=start + timedelta(days=days), provisional=False, basis=basis)


def case_deadlines(
    kind: str,
    received_on: date,
    *,
    anonymous: bool,
    schedule: HolidaySchedule,
    extensions: int = 0,
    concluded_on: date | None = None,
) -> dict[str, DueDate]:
    """All deadlines that apply to a case, keyed by step.

    Keys: ``decide`` (complaint, suggestion), ``accept`` and ``conclude`` (report),
    ``forward_discipline`` (any kind but rating), ``notify_acceptance`` and ``notify_result``
    (named cases only; the latter once ``concluded_on`` is known). Ratings have none.
    """
    if kind not in KINDS:
        raise ValueError(f"未知的案件类型：{kind!r}")
    if extensions < 0:
        raise ValueError(f"延期次数不能为负数：{extensions}")
    if concluded_on is not None and concluded_on < received_on:
        raise ValueError("办结日期不能早于收到日期")

    if kind == "rating":
        # A rating has nothing to extend; accepting one would hide a data-entry mistake.
        if extensions:
            raise ValueError("评价不设办理期限，不能延期")
        return {}

    deadlines: dict[str, DueDate] = {}
    if kind in ("complaint", "suggestion"):
        if extensions >= len(_DECIDE_DAYS):
            raise ValueError("投诉、意见建议最多延期两次（延长至30日，经审批再延长30日）")
        deadlines["decide"] = _calendar_due(received_on, _DECIDE_DAYS[extensions], _DECIDE_BASIS[extensions])
    else:
        if extensions >= len(_CONCLUDE_DAYS):
            raise ValueError("举报办理期限最多延长一次（30日）")
        deadlines["accept"] = _calendar_due(
            received_on, _ACCEPT_DAYS, f"收到后15日内决定是否受理（{_REPORT_RULE}）"
        )
        deadlines["conclude"] = _calendar_due(
            received_on, _CONCLUDE_DAYS[extensions], _CONCLUDE_BASIS[extensions]
        )

    deadlines["forward_discipline"] = add_working_days(
        received_on,
        _FORWARD_WORKING_DAYS,
        schedule,
        basis=f"收到后5个工作日内移送区纪委（{_DISCIPLINE_RULE}）",
    )

    # The discipline rules exempt anonymous cases from notification only; there is nobody to tell.
    if not anonymous:
        deadlines["notify_acceptance"] = add_working_days(
            received_on,
            _NOTIFY_WORKING_DAYS,
            schedule,
            basis=f"收到后15个工作日内告知实名反映人受理情况（{_DISCIPLINE_RULE}）",
        )
        if concluded_on is not None:
            deadlines["notify_result"] = add_working_days(
                concluded_on,
                _NOTIFY_WORKING_DAYS,
                schedule,
                basis=f"办结后15个工作日内告知实名反映人处理结果（{_DISCIPLINE_RULE}）",
            )
    return deadlines


def due_status(due: date, today: date, soon_days: int = 3) -> str:
    """``"overdue"`` after the due day, ``"due_soon"`` within ``soon_days`` of it, else ``"ok"``."""
    if soon_days < 0:
        raise ValueError(f"临期提醒天数不能为负数：{soon_days}")
    # The due day itself is still in time: "within N days" includes the Nth day.
    if today > due:
        return "overdue"
    if (due - today).days <= soon_days:
        return "due_soon"
    return "ok"
