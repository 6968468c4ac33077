"""督办事项: reads, scoped per user. Public to other apps (with services.py).

- `visible_items(user)`: the items the user may see: the institution's filer and head see their own
  institutions' items; the finance center and inspectors those of their districts; anyone else
  nothing (so an item out of scope is a 404). Annotated with `overdue` (open and past due_on).
- `with_overdue(qs, today)`, `filter_status(qs, status)` (`open`, `reported`, `closed`, `overdue`).
- `items_for(source_app, source_ids)`: {source_id: item} (the latest item per source object).
- `counts(qs)`: {"open", "reported", "closed", "overdue", "closed_on_time"} of a queryset.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import BooleanField, Case, Count, Q, QuerySet, Value, When
from django.utils import timezone

from institutions import access
from institutions.models import Role

from .models import Status, TrackedItem

VIEWER_ROLES = (Role.FINANCE_CENTER, Role.INSPECTOR)
MEMBER_ROLES = (Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)


def scope(queryset: QuerySet, user, institution_path: str = "institution") -> QuerySet:
    """Rows of `queryset` the user may see as tracked duties (the rule above), through `institution_path`."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = access.district_ids(user, *VIEWER_ROLES)
    if districts is None:
        return queryset
    district_field = f"{institution_path}__district_id" if institution_path else "district_id"
    condition = Q(**{f"{district_field}__in": districts}) if districts else Q(pk__in=())
    own = access.member_institution_ids(user, *MEMBER_ROLES)
    if own:
        condition |= Q(**{f"{institution_path or 'pk'}__in": own})
    return queryset.filter(condition)


def overdue_condition(today: date | None = None, prefix: str = "") -> Q:
    today = today or timezone.localdate()
    return Q(**{f"{prefix}status": Status.OPEN, f"{prefix}due_on__lt": today})


def with_overdue(queryset: QuerySet, today: date | None = None, prefix: str = "") -> QuerySet:
    return queryset.annotate(overdue=Case(When(overdue_condition(today, prefix), then=Value(True)),
                                          default=Value(False), output_field=BooleanField()))


def filter_status(queryset: QuerySet, status: str, today: date | None = None, prefix: str = "") -> QuerySet:
    """`status` one of open, reported, closed, overdue (open and past due); anything else: unchanged."""
    if status == "overdue":
        return queryset.filter(overdue_condition(today, prefix))
    if status in Status.values:
        return queryset.filter(**{f"{prefix}status": status})
    return queryset


def visible_items(user, today: date | None = None) -> QuerySet[TrackedItem]:
    qs = TrackedItem.objects.select_related("institution", "district")
    return with_overdue(scope(qs, user, "institution"), today)


def item_detail(user, pk: int) -> TrackedItem | None:
    return visible_items(user).prefetch_related("replies__files", "events__actor").filter(pk=pk).first()


def items_for(source_app: str, source_ids: Iterable[int]) -> dict[int, TrackedItem]:
    out: dict[int, TrackedItem] = {}
    for item in TrackedItem.objects.filter(source_app=source_app, source_id__in=list(source_ids)).order_by("id"):
        out[item.source_id] = item
    return out


def counts(queryset: QuerySet, today: date | None = None) -> dict[str, int]:
    row = queryset.aggregate(
        open=Count("pk", filter=Q(status=Status.OPEN)),
        reported=Count("pk", filter=Q(status=Status.REPORTED)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
        overdue=Count("pk", filter=overdue_condition(today)),
        closed_on_time=Count("pk", filter=Q(status=Status.CLOSED, closed_on_time=True)),
    )
    return {key: value or 0 for key, value in row.items()}


def history(item: TrackedItem):
    return item.events.select_related("actor").order_by("at", "id")


def evidence_file(user, pk: int):
    """An evidence file of an item the user may see, else None."""
    from .models import EvidenceFile

    return EvidenceFile.objects.select_related("reply__item").filter(
        pk=pk, reply__item__in=scope(TrackedItem.objects.all(), user)).first()
