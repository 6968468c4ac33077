"""Notices to named complainants (实名反映人): acceptance, refusal and result, by SMS, each within the
15 working days the discipline rules allow (complaints' deadlines `notify_acceptance` and
`notify_result`). Called from one line of complaints.services.perform_action, inside its transaction.

The identity never leaves the finance center: the message holds only the phone number (in the
outbox only the administrator reads), no name, no institution, no case text; what was sent and when
is recorded under the key "complaints:<case id>:<event>" and shown on the case
(`notifications.selectors.case_notices`)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from . import rules, services

EVENTS = {"accept": "complaints.accepted", "reject": "complaints.rejected", "close": "complaints.result"}


def _ymd(year, month, day) -> str:
    return _("{year}年{month}月{day}日").format(year=year, month=month, day=day)


def _date(value) -> str:
    if not value:
        return ""
    local = timezone.localtime(value)
    return _ymd(f"{local:%Y}", f"{local:%m}", f"{local:%d}")


def _due(case) -> str:
    deadlines = getattr(case, "deadlines", None) or {}
    for key in ("conclude", "decide"):
        if isinstance(deadlines.get(key), dict) and deadlines[key].get("date"):
            year, month, day = deadlines[key]["date"].split("-")
            return _ymd(year, month, day)
    return _("办结后 15 个工作日内")


def complainant_notice(case, action: str, phone: Callable[[], str]) -> int:
    """Queue the SMS for a named case's acceptance, refusal or closing; returns the messages stored.
    `phone` decrypts the number only when there is something to send."""
    kind = EVENTS.get(action)
    if kind is None or getattr(case, "anonymous", True):
        return 0
    number = (phone() or "").strip()
    if not rules.PHONE.match(number):
        return 0
    context = {"received": _date(case.received_at), "accepted": _date(case.accepted_at or timezone.now()),
               "due": _due(case)}
    return services.notify_phone(f"complaints:{case.pk}:{action}", kind, context, number)
