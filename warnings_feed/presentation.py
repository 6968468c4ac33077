"""How a warning is shown to a given reader: names masked for everyone but the finance center."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from institutions import access
from institutions.models import Employee

from . import rules
from .models import Scope, Warning


def reveals_names(user, warning: Warning | None = None) -> bool:
    """Only the finance center ever reads the real names (a given warning's: the finance center of
    its district); the public, employees, heads and other districts see 黄某."""
    if warning is None:
        return access.is_finance_center(user)
    return access.is_finance_center(user, warning.district_id)


def _concerns(warning: Warning) -> Q:
    if warning.scope == Scope.INSTITUTION and warning.institution_id:
        return Q(institution_id=warning.institution_id)
    if warning.scope == Scope.CATEGORY:
        return Q(institution__district_id=warning.district_id, institution__category=warning.category)
    return Q(institution__district_id=warning.district_id)


def attach_registry(warnings: Iterable[Warning]) -> None:
    """Give each warning the registry's names of the employees of the institutions it concerns, which
    are masked wherever the text names them (core.masking, `registry`); one query for all of them."""
    pending = [w for w in warnings if not hasattr(w, "registry_names")]
    if not pending:
        return
    query = Q()
    for warning in pending:
        query |= _concerns(warning)
    rows = list(Employee.objects.filter(query).values_list(
        "name", "institution_id", "institution__district_id", "institution__category").distinct())
    for warning in pending:
        warning.registry_names = frozenset(
            name for name, institution_id, district_id, category in rows
            if (institution_id == warning.institution_id if warning.scope == Scope.INSTITUTION
                and warning.institution_id else
                district_id == warning.district_id
                and (warning.scope != Scope.CATEGORY or category == warning.category)))


def _registry(warning: Warning) -> frozenset[str]:
    attach_registry([warning])
    return warning.registry_names


def title_for(warning: Warning, *, reveal_names: bool) -> str:
    registry = () if reveal_names else _registry(warning)
    return rules.shown_text(warning.title, warning.names or (), reveal_names=reveal_names, registry=registry)


def body_for(warning: Warning, *, reveal_names: bool) -> str:
    registry = () if reveal_names else _registry(warning)
    return rules.shown_text(warning.body, warning.names or (), reveal_names=reveal_names, registry=registry)


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

    warnings = list(warnings)
    attach_registry([w for w in warnings if not reveal(w)])
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
