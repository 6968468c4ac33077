"""The warnings feed's business rules as plain functions: no ORM, no request, easy to test."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from django.utils.translation import gettext as _

from core.masking import mask_warning_text

DISTRICT, CATEGORY, INSTITUTION = "district", "category", "institution"
SCOPES = (DISTRICT, CATEGORY, INSTITUTION)


def rate(part: int, total: int) -> float | None:
    """A percentage with one decimal, or None when nothing was delivered (not 0 %: nothing to rate)."""
    if total <= 0:
        return None
    return round(100.0 * part / total, 1)


def scope_errors(scope: str, category: str, institution_code: str) -> dict[str, str]:
    """Per-field problems with a scope and its target: each scope names exactly one target."""
    errors: dict[str, str] = {}
    if scope not in SCOPES:
        return {"scope": _("发布范围须为 district、category 或 institution。")}
    if scope == CATEGORY and not category:
        errors["category"] = _("发布范围为某类机构（category）时须填写机构类别。")
    if scope != CATEGORY and category:
        errors["category"] = _("只有发布范围为 category 时才填写机构类别。")
    if scope == INSTITUTION and not institution_code:
        errors["institution_code"] = _("发布范围为单个机构（institution）时须填写机构编码。")
    if scope != INSTITUTION and institution_code:
        errors["institution_code"] = _("只有发布范围为 institution 时才填写机构编码。")
    return errors


def publish_refusal(*, is_finance_center: bool, head_of: Collection[int], scope: str,
                    institution_id: int | None) -> str | None:
    """Why this user may not publish to this target, or None if they may.

    The finance center publishes to any scope; an institution head only to one institution they
    head. Whether another institution exists is never revealed: the refusal is the same.
    """
    if is_finance_center:
        return None
    if not head_of:
        return _("只有区金融工作中心和机构负责人可以发布警示信息。")
    if scope != INSTITUTION:
        return _("机构负责人只能向本机构员工发布警示信息（scope 须为 institution）。")
    if institution_id is None or institution_id not in head_of:
        return _("机构负责人只能向本机构员工发布警示信息。")
    return None


def is_due(publish_at: datetime, now: datetime) -> bool:
    """A warning reaches employees once its publish time has come (earlier ones are scheduled)."""
    return publish_at <= now


def acknowledged_on_time(delivered_at: datetime, acknowledged_at: datetime | None, within_days: int) -> bool:
    return acknowledged_at is not None and acknowledged_at <= delivered_at + timedelta(days=within_days)


def reminder_due(*, delivered_at: datetime, acknowledged_at: datetime | None, reminded_at: datetime | None,
                 reminders: int, now: datetime, after_days: int, max_reminders: int) -> bool:
    """Remind when not acknowledged `after_days` after delivery, then every `after_days` again, at most
    `max_reminders` times. (selectors.reminders_due is the set-based form of the same rule.)"""
    if acknowledged_at is not None or reminders >= max_reminders:
        return False
    cutoff = now - timedelta(days=after_days)
    return delivered_at <= cutoff and (reminded_at is None or reminded_at <= cutoff)


def shown_text(text: str, names: Iterable[str], *, reveal_names: bool, registry: Iterable[str] = ()) -> str:
    """What a reader sees: the original for the finance center, names masked (黄某) for everyone else:
    the warning's own names, the registry's names of the institutions concerned, and detected ones."""
    if reveal_names:
        return text
    return mask_warning_text(text, names, registry)


def split_names(raw: str) -> list[str]:
    """Names typed in one box ("黄小明，欧阳娜娜 李四"), deduplicated, in order."""
    out: list[str] = []
    for sep in "，,、;；\n\t":
        raw = raw.replace(sep, " ")
    for name in raw.split():
        if name not in out:
            out.append(name)
    return out


def issuer_name(*, scope: str, institution_name: str, district_name: str, published_by_head: bool) -> str:
    """The publishing body shown to employees: the institution for a head's warning, else the center."""
    if published_by_head and scope == INSTITUTION and institution_name:
        return institution_name
    return _("%(district)s金融工作中心") % {"district": district_name}
