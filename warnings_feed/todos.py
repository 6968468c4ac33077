"""Warnings' to-do counts on the role home (core.portal.register_todo, registered in apps.py): an
employee's unread warnings; for a manager, recent warnings whose acknowledgement stays low after
the acknowledgement period."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import DeliveryTally

LOW_ACKNOWLEDGEMENT_PERCENT = 80
RECENT_DAYS = 90


def unread(user) -> int:
    return selectors.unread_count(user)


def low_acknowledgement(user) -> int:
    """Warnings of the last RECENT_DAYS, past the acknowledgement period, acknowledged by fewer than
    LOW_ACKNOWLEDGEMENT_PERCENT % of those they reached (in the manager's scope)."""
    now = timezone.now()
    warnings = selectors.managed_warnings(user).filter(
        publish_at__gte=now - timedelta(days=RECENT_DAYS),
        publish_at__lte=now - timedelta(days=selectors.acknowledge_within_days()))
    # From the stored tallies per warning and institution (kept exact by the services), not the
    # deliveries: 0.11 s of the finance center's 0.14 s home page in a province (2,000,000 deliveries).
    tallies = DeliveryTally.objects.filter(warning__in=warnings.order_by().values("pk"))
    scope = selectors.rates_scope(user)
    if scope is not None:
        tallies = tallies.filter(scope)
    rows = (tallies.order_by().values("warning_id")
            .annotate(reached=Sum("delivered"), known=Sum("acknowledged"))
            .filter(reached__gt=0, known__lt=F("reached") * LOW_ACKNOWLEDGEMENT_PERCENT / 100.0))
    return rows.count()


def is_employee(user) -> bool:
    return selectors.employee_of(user) is not None


def register() -> None:
    from core import portal

    portal.register_todo("warnings.unread", _("未读的警示信息"), unread, "warnings_feed:feed", is_employee,
                         order=10, urgent=True)
    portal.register_todo("warnings.low_acknowledgement", _("知悉率低于八成的警示信息（近90天）"), low_acknowledgement,
                         lambda user: reverse("warnings_feed:manage"), selectors.may_manage, order=40)
