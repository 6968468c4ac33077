"""How a warning is shown to a given reader: names masked for everyone but the finance center."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from institutions import access

from . import rules
from .models import Warning


def reveals_names(user, warning: Warning | None = None) -> bool:
    """Only the finance center ever reads the real names (a given warning's: the finance center of
    its district); the public, employees, heads and other districts see 黄某."""
    if warning is None:
        return access.is_finance_center(user)
    return access.is_finance_center(user, warning.district_id)


def title_for(warning: Warning, *, reveal_names: bool) -> str:
    return rules.shown_text(warning.title, warning.names or (), reveal_names=reveal_names)


def body_for(warning: Warning, *, reveal_names: bool) -> str:
    return rules.shown_text(warning.body, warning.names or (), reveal_names=reveal_names)


def status_of(warning: Warning, now: datetime | None = None) -> str:
    return "published" if rules.is_due(warning.publish_at, now or timezone.now()) else "scheduled"


@dataclass
class Shown:
    """A warning as one reader sees it (templates read this, never the raw title and body)."""

    warning: Warning
    title: str
    body: str
    read: bool
    acknowledged: bool
    received: bool
    status: str

    @property
    def pk(self) -> int:
        return self.warning.pk


def shown(warnings: Iterable[Warning], *, reveal_names: bool, now: datetime | None = None,
          reader=None) -> list[Shown]:
    """`reader`, when given, narrows `reveal_names` to the warnings of the reader's own districts."""
    now = now or timezone.now()

    def reveal(w: Warning) -> bool:
        return reveal_names and (reader is None or reveals_names(reader, w))

    return [
        Shown(
            warning=w,
            title=title_for(w, reveal_names=reveal(w)),
            body=body_for(w, reveal_names=reveal(w)),
            read=getattr(w, "my_read_at", None) is not None,
            acknowledged=getattr(w, "my_acknowledged_at", None) is not None,
            received=getattr(w, "my_delivery", None) is not None,
            status=status_of(w, now),
        )
        for w in warnings
    ]
