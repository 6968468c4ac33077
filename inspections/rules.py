"""Pure rules of inspections (no ORM): notice numbers, clause numbers, team lists."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

CLAUSE_PATTERN = re.compile(r"^\d{1,3}\.\d{1,3}$")
MAX_TEAM = 20


def notice_prefix(district_name: str, overrides: dict[str, str] | None = None, district_code: str = "") -> str:
    """The notice's issuing code: `<first character of the district>金清整`, e.g. 路桥区 → 路金清整
    (INSPECTIONS_NOTICE_PREFIXES may set another per district code)."""
    if overrides and district_code in overrides:
        return overrides[district_code]
    return f"{(district_name or '区')[:1]}金清整"  # i18n-exempt: official document-number prefix (公文文号)


def notice_number(prefix: str, year: int, seq: int) -> str:
    """路金清整〔2026〕7号"""
    return f"{prefix}〔{year}〕{seq}号"  # i18n-exempt: official document number, stored on the visit


def clause_number(value) -> str:
    """"3.2" (item 3, clause 2), stripped; ValueError in Chinese otherwise."""
    text = str(value if value is not None else "").strip()
    if not CLAUSE_PATTERN.match(text):
        raise ValueError(_("条款须写作“项号.条号”，如 3.2。"))
    return text


def team_list(value) -> list[str]:
    """A team as a list of names: a list, or a string separated by 、，, or spaces."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        names = re.split(r"[、，,;；\s]+", value)
    elif isinstance(value, (list, tuple)):
        if not all(isinstance(v, str) for v in value):
            raise ValueError(_("检查组成员须为姓名列表。"))
        names = list(value)
    else:
        raise ValueError(_("检查组成员须为姓名列表。"))
    names = [n.strip() for n in names if n and n.strip()]
    if len(names) > MAX_TEAM:
        raise ValueError(_("检查组成员最多{n}人。").format(n=MAX_TEAM))
    if any(len(n) > 50 for n in names):
        raise ValueError(_("检查组成员姓名过长。"))
    return names


def on_time_rate(closed_on_time: int, total_due: int) -> str | None:
    """Closed on time over findings whose rectification is due or done, as a percentage string."""
    if not total_due:
        return None
    return f"{closed_on_time * 100 / total_due:.1f}"
