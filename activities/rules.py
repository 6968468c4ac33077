"""Pure rules of the programme's year (no ORM): completion, rates, returns, the calendar feed."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

from .models import ReturnStatus

# Return (报送) transitions: who may act from which status.
SUBMITTABLE = frozenset({ReturnStatus.PENDING, ReturnStatus.RETURNED})
DECIDABLE = frozenset({ReturnStatus.SUBMITTED})


def completed(hours: Decimal, required: Decimal) -> bool:
    """An employee has completed the year's training when their hours reach the requirement."""
    return Decimal(hours) >= Decimal(required)


def rate(part: int, whole: int) -> Decimal | None:
    """part / whole in percent with one decimal (None when there is nothing to count)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def is_late(due_on: dt.date | None, returned_on: dt.date | None, today: dt.date) -> bool:
    """A return is late when made after its due date, or still missing after it."""
    if due_on is None:
        return False
    return (returned_on or today) > due_on


def parse_hours(raw) -> Decimal:
    """Hours as typed (“2”, “1.5”); ValueError with a Chinese message otherwise."""
    try:
        value = Decimal(str(raw).strip())
    except Exception:
        raise ValueError(_("学时“{raw}”不是数字").format(raw=raw)) from None
    if not value.is_finite() or value <= 0 or value > 100:
        raise ValueError(_("学时须大于0且不超过100（收到 {raw}）").format(raw=raw))
    if value != value.quantize(Decimal("0.1")):
        raise ValueError(_("学时最多保留一位小数（收到 {raw}）").format(raw=raw))
    return value


# --- iCalendar (RFC 5545), written by hand ---------------------------------------------------------

def ics_escape(text: str) -> str:
    text = str(text).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "")


def ics_fold(line: str) -> list[str]:
    """Fold a content line at 75 octets (UTF-8), continuation lines starting with a space."""
    out, current = [], b""
    for char in line:
        encoded = char.encode("utf-8")
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return [out[0]] + [" " + part for part in out[1:]]


def ics_calendar(name: str, events, stamp: dt.datetime) -> str:
    """A VCALENDAR of all-day events: each (uid, start date, end date inclusive, summary, description)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Clean Finance Portal//Programme calendar//ZH",
             "CALSCALE:GREGORIAN", f"X-WR-CALNAME:{ics_escape(name)}"]
    stamp_text = stamp.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    for uid, start, end, summary, description in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTAMP:{stamp_text}",
                  f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{(end + dt.timedelta(days=1)):%Y%m%d}",
                  f"SUMMARY:{ics_escape(summary)}"]
        if description:
            lines.append(f"DESCRIPTION:{ics_escape(description)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    folded = []
    for line in lines:
        folded += ics_fold(line)
    return "\r\n".join(folded) + "\r\n"
