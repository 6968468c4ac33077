"""Reads of the notification outbox."""

from __future__ import annotations

from django.db.models import QuerySet

from . import rules
from .models import Message


def messages_for_key(key_prefix: str) -> QuerySet[Message]:
    """The messages whose key starts with `key_prefix` (e.g. "complaints:12:"), newest first."""
    return Message.objects.filter(key__startswith=key_prefix).order_by("-created_at", "-id")


def case_notices(case_id: int) -> list[dict]:
    """What a named complainant was told and when, for the case page (recipient masked)."""
    return [{"kind": m.kind, "subject": m.subject, "channel": m.get_channel_display(),
             "recipient": rules.mask_recipient(m.channel, m.recipient), "status": m.get_status_display(),
             "state": m.status, "attempts": m.attempts, "deferred": m.deferred,
             "created_at": m.created_at, "sent_at": m.sent_at, "last_error": m.last_error}
            for m in messages_for_key(f"complaints:{case_id}:")]


def push_lists(institution_ids, limit: int = 20):
    from .models import PushList

    return PushList.objects.filter(institution_id__in=institution_ids).select_related("institution")[:limit]


def recent_messages(institution_ids, limit: int = 20) -> list[dict]:
    """The latest messages to the institutions' channels (recipients masked), with their delivery state."""
    rows = (Message.objects.filter(institution_id__in=institution_ids).exclude(kind="questionnaire.link")
            .order_by("-created_at", "-id")[:limit])
    return [{"subject": m.subject, "channel": m.get_channel_display(),
             "recipient": rules.mask_recipient(m.channel, m.recipient), "status": m.status,
             "status_label": m.get_status_display(), "attempts": m.attempts, "last_error": m.last_error,
             "created_at": m.created_at, "sent_at": m.sent_at, "deferred": m.deferred} for m in rows]


def district_channels(district_ids) -> dict:
    """district id -> its finance center's own channels (DistrictChannels), for the districts given."""
    from .models import DistrictChannels

    return {c.district_id: c for c in DistrictChannels.objects.filter(district_id__in=district_ids)}
