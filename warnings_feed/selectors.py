"""Reads: who receives a warning, whose feed holds what, read and acknowledgement rates.

Every list here is one query (or a fixed handful), whatever the number of warnings or employees:
rates are GROUP BY queries, the caller's read state is a LEFT JOIN, never a query per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from institutions import access
from institutions.models import District, Employee, Institution, Role

from . import rules
from .models import Delivery, DeliveryTally, Scope, Warning


def acknowledge_within_days() -> int:
    return settings.WARNINGS_ACKNOWLEDGE_WITHIN_DAYS


# --- who ------------------------------------------------------------------------------------------

def employee_of(user) -> Employee | None:
    """The Employee row linked to this login, if any (cached on the user object by Django)."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.employee
    except ObjectDoesNotExist:
        return None


def head_institution_ids(user) -> frozenset[int]:
    """Institutions this user heads (role institution_head): the ones they may publish to."""
    return access.headed_institution_ids(user)


def may_manage(user) -> bool:
    """The finance center and institution heads publish warnings and follow acknowledgements."""
    return access.is_finance_center(user) or bool(head_institution_ids(user))


def finance_district_ids(user) -> frozenset[int] | None:
    """The districts whose warnings the user manages as the finance center (None: every district,
    the administrator; empty: none)."""
    return access.district_ids(user, Role.FINANCE_CENTER)


def default_district() -> District | None:
    """The district a district-wide warning goes to when none is named: the only one with institutions."""
    ids = list(Institution.objects.order_by().values_list("district_id", flat=True).distinct()[:2])
    return District.objects.get(pk=ids[0]) if len(ids) == 1 else None


def publishing_district(user, code: str = "") -> District:
    """The district a finance officer publishes for: `code` when given (NotFound unless it is one of
    theirs), else their only district. The administrator, naming none, gets the only district that
    has institutions (a single-district installation)."""
    if not (code or "").strip() and access.is_superuser(user):
        only = default_district()
        if only is not None:
            return only
    return access.resolve_district(user, code, roles=(Role.FINANCE_CENTER,))


# --- recipients -----------------------------------------------------------------------------------

def recipients(warning: Warning) -> QuerySet[Employee]:
    """Active employees of active institutions in the warning's scope (no ordering: for INSERT…SELECT)."""
    employees = Employee.objects.filter(is_active=True, institution__is_active=True).order_by()
    if warning.scope == Scope.INSTITUTION:
        return employees.filter(institution_id=warning.institution_id)
    employees = employees.filter(institution__district_id=warning.district_id)
    if warning.scope == Scope.CATEGORY:
        employees = employees.filter(institution__category=warning.category)
    return employees


def covering(institution_ids) -> Q:
    """Warnings whose scope covers at least one of these institutions."""
    institutions = Institution.objects.filter(pk__in=institution_ids).order_by()
    return (
        Q(scope=Scope.INSTITUTION, institution_id__in=institution_ids)
        | Q(scope=Scope.DISTRICT, district_id__in=institutions.values("district_id"))
        | Q(Exists(institutions.filter(district_id=OuterRef("district_id"), category=OuterRef("category"))),
            scope=Scope.CATEGORY)
    )


# --- feeds ----------------------------------------------------------------------------------------

def feed(user, *, now: datetime | None = None) -> QuerySet[Warning]:
    """The warnings this user may see, unread first, each with the user's own read state.

    Employees see the warnings delivered to them; heads and filers those covering their
    institution (and those they published, scheduled ones included); district-wide roles the
    published warnings of their districts; the finance center every warning of its districts,
    scheduled ones included; the administrator all. Annotations:
    `my_delivery`, `my_read_at`, `my_acknowledged_at` (None when the user received no delivery).
    """
    if not getattr(user, "is_authenticated", False):
        return Warning.objects.none()
    now = now or timezone.now()
    warnings = Warning.objects.select_related("district", "institution")
    employee = employee_of(user)
    if employee is not None:
        warnings = warnings.annotate(
            mine=FilteredRelation("deliveries", condition=Q(deliveries__employee_id=employee.pk)),
            my_delivery=F("mine__id"), my_read_at=F("mine__read_at"),
            my_acknowledged_at=F("mine__acknowledged_at"),
        )
    else:
        warnings = warnings.annotate(
            my_delivery=Value(None, output_field=IntegerField()),
            my_read_at=Value(None, output_field=DateTimeField()),
            my_acknowledged_at=Value(None, output_field=DateTimeField()),
        )
    if not access.is_superuser(user):
        reach = Q(my_delivery__isnull=False) if employee is not None else Q(pk__in=[])
        granted = access.district_ids(user)
        if granted:
            reach |= Q(district_id__in=granted)
        if access.has_role(user, Role.INSTITUTION_HEAD, Role.INSTITUTION_FILER):
            reach |= covering(access.own_institution_ids(user))
        condition = reach & Q(publish_at__lte=now)
        heads = head_institution_ids(user)
        if heads:
            condition |= Q(publisher=user) & covering(heads)  # a head's own, scheduled ones included
        finance = finance_district_ids(user)
        if finance:
            condition |= Q(district_id__in=finance)  # scheduled ones included
        warnings = warnings.filter(condition)
    unread_first = Case(When(my_delivery__isnull=False, my_read_at__isnull=True, then=Value(0)),
                        default=Value(1), output_field=IntegerField())
    return warnings.order_by(unread_first, "-publish_at", "-id")


def unread_count(user, *, now: datetime | None = None) -> int:
    employee = employee_of(user)
    if employee is None:
        return 0
    return Delivery.objects.filter(employee=employee, read_at__isnull=True,
                                   warning__publish_at__lte=now or timezone.now()).count()


def public_warnings(*, now: datetime | None = None) -> QuerySet[Warning]:
    return (Warning.objects.filter(is_public=True, publish_at__lte=now or timezone.now())
            .select_related("district", "institution").order_by("-publish_at", "-id"))


def due_for_fan_out(*, now: datetime | None = None) -> QuerySet[Warning]:
    """Published (their time has come) but not yet delivered: scheduled ones, or a lost task."""
    return Warning.objects.filter(fanned_out_at__isnull=True, publish_at__lte=now or timezone.now())


def managed_warnings(user) -> QuerySet[Warning]:
    """The warnings a manager follows: those of its districts for the finance center (all for the
    administrator), those reaching their institution or published by them for a head."""
    warnings = Warning.objects.select_related("district", "institution", "publisher").order_by("-publish_at", "-id")
    finance = finance_district_ids(user)
    if finance is None:
        return warnings
    condition = Q(pk__in=[])
    if finance:
        condition |= Q(district_id__in=finance)
    heads = head_institution_ids(user)
    if heads:
        condition |= covering(heads)
    return warnings.filter(condition)


def rates_scope(user) -> Q | None:
    """Whose deliveries a manager's rates count, as a condition on Delivery (None: all, the
    administrator): the institutions of the finance center's districts and those the user heads."""
    finance = finance_district_ids(user)
    if finance is None:
        return None
    condition = Q(pk__in=[])
    if finance:
        condition |= Q(institution__district_id__in=finance)
    heads = head_institution_ids(user)
    if heads:
        condition |= Q(institution_id__in=heads)
    return condition


# --- rates ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rates:
    delivered: int
    read: int
    acknowledged: int
    on_time: int = 0
    key: int | None = None
    code: str = ""
    name: str = ""

    @property
    def unread(self) -> int:
        return self.delivered - self.read

    @property
    def read_rate(self) -> float | None:
        return rules.rate(self.read, self.delivered)

    @property
    def acknowledged_rate(self) -> float | None:
        return rules.rate(self.acknowledged, self.delivered)

    @property
    def on_time_rate(self) -> float | None:
        return rules.rate(self.on_time, self.delivered)

    def as_dict(self) -> dict:
        return {"delivered": self.delivered, "read": self.read, "acknowledged": self.acknowledged,
                "acknowledged_on_time": self.on_time, "read_rate": self.read_rate,
                "acknowledged_rate": self.acknowledged_rate}


def _counts() -> dict:
    on_time = Q(acknowledged_at__lte=F("delivered_at") + timedelta(days=acknowledge_within_days()))
    return {
        "delivered": Count("id"),
        "read": Count("id", filter=Q(read_at__isnull=False)),
        "acknowledged": Count("id", filter=Q(acknowledged_at__isnull=False)),
        "on_time": Count("id", filter=on_time),
    }


def _deliveries(*, warning_ids=None, institution_ids=None, since: datetime | None = None,
                where: Q | None = None) -> QuerySet[Delivery]:
    """`where`: a condition on Delivery, e.g. rates_scope(user)."""
    deliveries = Delivery.objects.order_by()
    if where is not None:
        deliveries = deliveries.filter(where)
    if warning_ids is not None:
        deliveries = deliveries.filter(warning_id__in=warning_ids)
    if institution_ids is not None:
        deliveries = deliveries.filter(institution_id__in=institution_ids)
    if since is not None:
        deliveries = deliveries.filter(delivered_at__gte=since)
    return deliveries


def rates_by_institution_rows(*, warning_ids=None, institution_ids=None, since: datetime | None = None,
                              where: Q | None = None) -> QuerySet:
    """The grouped rows behind rates_by_institution, as a query a paginator can slice (LIMIT/OFFSET
    and a COUNT in the database: a province has 5,000 institutions; issue 16). Map a slice with
    `as_rates`."""
    return (_deliveries(warning_ids=warning_ids, institution_ids=institution_ids, since=since, where=where)
            .values("institution_id", "institution__code", "institution__name")
            .annotate(**_counts()).order_by("institution__code"))


def as_rates(rows) -> list[Rates]:
    return [Rates(r["delivered"], r["read"], r["acknowledged"], r["on_time"], r["institution_id"],
                  r["institution__code"], r["institution__name"]) for r in rows]


def rates_by_institution(*, warning_ids=None, institution_ids=None, since: datetime | None = None,
                         where: Q | None = None) -> list[Rates]:
    """One row per institution (GROUP BY), optionally for some warnings / institutions / since a date."""
    return as_rates(rates_by_institution_rows(warning_ids=warning_ids, institution_ids=institution_ids,
                                              since=since, where=where))


def rates_by_warning(warning_ids, *, institution_ids=None, where: Q | None = None) -> dict[int, Rates]:
    """Totals per warning (GROUP BY), restricted to some institutions when given."""
    rows = (_deliveries(warning_ids=warning_ids, institution_ids=institution_ids, where=where)
            .values("warning_id").annotate(**_counts()))
    return {r["warning_id"]: Rates(r["delivered"], r["read"], r["acknowledged"], r["on_time"], r["warning_id"])
            for r in rows}


def rates_total(*, warning_ids=None, institution_ids=None, where: Q | None = None) -> Rates:
    row = _deliveries(warning_ids=warning_ids, institution_ids=institution_ids, where=where).aggregate(**_counts())
    return Rates(row["delivered"], row["read"], row["acknowledged"], row["on_time"])


def not_acknowledged(warning: Warning, *, institution_ids=None, where: Q | None = None) -> QuerySet[Delivery]:
    """Who has not tapped 已阅知悉 yet (restricted to some institutions for a head; `where` as in
    rates_scope)."""
    deliveries = Delivery.objects.filter(warning=warning, acknowledged_at__isnull=True)
    if where is not None:
        deliveries = deliveries.filter(where)
    if institution_ids is not None:
        deliveries = deliveries.filter(institution_id__in=institution_ids)
    return deliveries.select_related("employee", "institution").order_by("institution__code", "employee__employee_no")


def acknowledgement_by_employee(employee_ids, *, year: int | None = None) -> dict[int, Rates]:
    """Per employee: warnings delivered, read, acknowledged and acknowledged on time (for portraits)."""
    deliveries = Delivery.objects.filter(employee_id__in=employee_ids).order_by()
    if year is not None:
        deliveries = deliveries.filter(delivered_at__year=year)
    rows = deliveries.values("employee_id").annotate(**_counts())
    return {r["employee_id"]: Rates(r["delivered"], r["read"], r["acknowledged"], r["on_time"], r["employee_id"])
            for r in rows}


# --- tallies (the dashboards' reads) -------------------------------------------------------------
# Sums of DeliveryTally rows (kept exact by services.py) instead of counts over the deliveries: a
# year of a province's warnings is a million deliveries but some hundred thousand tallies. `where`
# restricts the tallies through their institution (e.g. Q(institution__district_id=…)).

_TALLY_SUMS = {"delivered": "delivered", "read": "read", "acknowledged": "acknowledged",
               "on_time": "acknowledged_on_time"}


def _tally_sums() -> dict:
    # Aliased: an annotation may not take the name of one of the model's fields.
    return {f"sum_{key}": Sum(field) for key, field in _TALLY_SUMS.items()}


def _summed(row: dict) -> dict:
    return {key: row[f"sum_{key}"] for key in _TALLY_SUMS}


def _tallies(warning_ids, where: Q | None) -> QuerySet[DeliveryTally]:
    """Tallies of these warnings (ids, or a query of them); `where` as above."""
    return DeliveryTally.objects.filter(where or Q(), warning_id__in=warning_ids).order_by()


def tally_rates_by_warning(warning_ids, *, where: Q | None = None) -> dict[int, Rates]:
    """rates_by_warning from the stored tallies (one row per warning and institution) instead of
    the deliveries (2,000,000 in a province: 1.3 s on the management page, issue 16)."""
    rows = _tallies(warning_ids, where).values("warning_id").annotate(**_tally_sums())
    return {r["warning_id"]: Rates(**_summed(r), key=r["warning_id"]) for r in rows}


def tally_rates_by_institution_rows(*, where: Q | None = None) -> QuerySet:
    """rates_by_institution_rows over every warning, from the stored tallies, as a query a paginator
    can slice (the COUNT of grouped deliveries took 2.8 s in a province). Map a slice with
    `as_tally_rates`."""
    return (DeliveryTally.objects.filter(where or Q(), delivered__gt=0).order_by()
            .values("institution_id", "institution__code", "institution__name")
            .annotate(**_tally_sums()).order_by("institution__code"))


def tally_rates_institution_count(*, where: Q | None = None) -> int:
    """How many rows tally_rates_by_institution_rows gives, as institutions with a delivery (EXISTS per
    institution: the COUNT of the grouped rows sorted a province's 117,000 tallies, 0.2 s)."""
    delivered = DeliveryTally.objects.filter(where or Q(), institution=OuterRef("pk"), delivered__gt=0)
    return Institution.objects.filter(Exists(delivered)).count()


def as_tally_rates(rows) -> list[Rates]:
    return [Rates(**_summed(r), key=r["institution_id"], code=r["institution__code"], name=r["institution__name"])
            for r in rows]


def tally_sums_by_warning_and_category(warning_ids, *, where: Q | None = None) -> list[dict]:
    """Per (warning, institution category): {warning_id, category, delivered, read, acknowledged,
    on_time}, one grouped query."""
    rows = _tallies(warning_ids, where).values("warning_id", "institution__category").annotate(**_tally_sums())
    return [{"warning_id": r["warning_id"], "category": r["institution__category"], **_summed(r)} for r in rows]


def tally_sums_by_institution(warning_ids, *, where: Q | None = None, offset: int = 0,
                              limit: int) -> tuple[int, list[dict]]:
    """Per institution, the lowest acknowledged rate first (equal rates by institution id): how many
    institutions in all, and a page of {institution_id, code, name, delivered, read, acknowledged,
    on_time}. One statement (a second one, counting, only for a page past the end)."""
    grouped = _tallies(warning_ids, where).values("institution_id").annotate(**_tally_sums())
    select_sql, params = grouped.query.sql_with_params()
    # Grouped by the id alone, then joined for the names (no sort of the names' text). The rate is
    # what Python's acknowledged / delivered gives, a division of doubles, so the order is the same.
    rate = ("CASE WHEN g.sum_delivered > 0 THEN CAST(g.sum_acknowledged AS DOUBLE PRECISION) "
            "/ CAST(g.sum_delivered AS DOUBLE PRECISION) ELSE 1.0 END")
    columns = ", ".join(f"g.sum_{key}" for key in _TALLY_SUMS)
    sql = (f"SELECT g.institution_id, i.code, i.name, {columns}, COUNT(*) OVER () "  # noqa: S608
           f"FROM ({select_sql}) g JOIN {Institution._meta.db_table} i ON i.id = g.institution_id "
           f"ORDER BY {rate}, g.institution_id LIMIT %s OFFSET %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, offset])
        rows = cursor.fetchall()
    if rows:
        count = rows[0][-1]
    else:
        count = _tallies(warning_ids, where).values("institution_id").distinct().count() if offset else 0
    return count, [{"institution_id": pk, "code": code, "name": name, **dict(zip(_TALLY_SUMS, sums, strict=True))}
                   for pk, code, name, *sums, _count in rows]


# --- reminders ------------------------------------------------------------------------------------

def reminders_due(*, now: datetime, after_days: int, max_reminders: int) -> QuerySet[Delivery]:
    """Set-based form of rules.reminder_due, limited to employees who can receive an email."""
    cutoff = now - timedelta(days=after_days)
    return (
        Delivery.objects.filter(acknowledged_at__isnull=True, delivered_at__lte=cutoff, reminders__lt=max_reminders,
                                warning__publish_at__lte=now, employee__is_active=True,
                                employee__user__is_active=True)
        .filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=cutoff))
        .exclude(employee__user__email="")
        .order_by("employee_id", "warning__publish_at", "warning_id")
    )


def masked_titles(warning_ids) -> dict[int, str]:
    """The titles of these warnings as a reader outside the finance center sees them (for mails and
    reports, which leave the portal): the warning's own names, the registry's names of the
    institutions it concerns and the detected names masked. Two queries for any number of warnings."""
    from . import presentation

    warnings = list(Warning.objects.filter(pk__in=set(warning_ids)).only(
        "pk", "title", "body", "names", "scope", "institution_id", "district_id", "category"))
    presentation.attach_registry(warnings)
    return {w.pk: presentation.title_for(w, reveal_names=False) for w in warnings}
