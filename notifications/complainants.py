"""Notices to named complainants (实名反映人): acceptance, refusal and result, by SMS, each within the
15 working days the discipline rules allow (complaints' deadlines `notify_acceptance` and
`notify_result`). Called from one line of complaints.services.perform_action, inside its transaction.

The identity never leaves the finance center: the message holds only the phone number (in the
outbox only the administrator reads), no name, no institution, no case text; what was sent and when
is recorded under the key "complaints:<case id>:<event>" and shown on the case
(`notifications.selectors.case_notices`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from . import rules, services

EVENTS = {"accept": "complaints.accepted", "reject": "complaints.rejected", "close": "complaints.result"}
KEY_PREFIX = "complaints:"


@dataclass(frozen=True)
class Notice:
    """What `complainant_notice` did: messages queued, to which (masked) number, or why none."""

    stored: int = 0
    kind: str = ""
    recipient: str = ""  # masked: 138****5678
    skipped: str = ""  # why a named complainant could not be told, "" otherwise

    def __bool__(self) -> bool:
        return bool(self.stored)


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


def case_id_of(key: str) -> int | None:
    """The case of a notice's key "complaints:<id>:<action>", else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    head = key[len(KEY_PREFIX):].split(":", 1)[0]
    return int(head) if head.isdigit() else None


def complainant_notice(case, action: str, phone: Callable[[], str | None]) -> Notice:
    """Queue the SMS for a named case's acceptance, refusal or closing. `phone` decrypts the number
    only when there is something to send (None: no key opens it). A named case that cannot be told
    (no valid number, no SMS channel, an unreadable number) says why in `skipped` (stored in the
    case's log, in the language of the day)."""
    kind = EVENTS.get(action)
    if kind is None or getattr(case, "anonymous", True):
        return Notice()
    if "sms" not in services.enabled_channels():
        return Notice(kind=kind, skipped=_("本系统未开通短信渠道，未能短信告知反映人"))
    number = phone()
    if number is None:  # stored, but no configured key opens it (complaints logs the error)
        return Notice(kind=kind, skipped=_("反映人手机号无法解密，未能短信告知"))
    number = number.strip()
    if not rules.PHONE.match(number):
        return Notice(kind=kind, skipped=_("反映人未留有效手机号，未能短信告知"))
    context = {"received": _date(case.received_at), "accepted": _date(case.accepted_at or timezone.now()),
               "due": _due(case)}
    stored = services.notify_phone(f"{KEY_PREFIX}{case.pk}:{action}", kind, context, number)
    return Notice(stored=stored, kind=kind, recipient=rules.mask_recipient("sms", number))
