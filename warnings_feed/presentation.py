"""How a warning is shown to a given reader: names masked for everyone but the finance center."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Length
from django.utils import timezone

from core import masking
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


SHORT_NAME = 6  # characters: nearly every name; longer ones are matched one row at a time


def attach_registry(warnings: Iterable[Warning]) -> None:
    """Give each warning the registry's names of the employees of the institutions it concerns that its
    title or body contains, which are masked wherever the text names them (core.masking, `registry`).

    One query for all of them, and only the names in the texts come back: a district's registry can
    hold 100,000 employees.
    """
    pending = [w for w in warnings if not hasattr(w, "registry_names")]
    if not pending:
        return
    texts = {w.pk: masking.to_simplified(f"{w.title}\n{w.body}") for w in pending}
    # A name is in a text exactly when it is one of the text's substrings of its length: the names up
    # to SHORT_NAME characters are looked up among those substrings (a hashed list), not matched
    # against the text one row at a time (2.6 s over a province's 100,000 employees); only the rare
    # longer names are still matched with LIKE.
    candidates = sorted({text[i:i + n] for text in texts.values() for n in range(1, SHORT_NAME + 1)
                         for i in range(len(text) - n + 1)})
    concerns = Q()
    long_names = Q()
    aliases = {"name_length": Length("name")}
    for index, warning in enumerate(pending):
        aliases[f"text_{index}"] = Value(texts[warning.pk], output_field=TextField())
        concerns |= _concerns(warning)
        long_names |= Q(**{f"text_{index}__contains": F("name")})
    query = concerns & (Q(name__in=candidates) | (Q(name_length__gt=SHORT_NAME) & long_names))
    rows = list(Employee.objects.alias(**aliases).filter(query).exclude(name="").values_list(
        "name", "institution_id", "institution__district_id", "institution__category").distinct())
    for warning in pending:
        warning.registry_names = frozenset(
            name for name, institution_id, district_id, category in rows
            if name in texts[warning.pk]
            and (institution_id == warning.institution_id if warning.scope == Scope.INSTITUTION
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
