"""Reads of the programme's year: who sees which records, figures for other apps (training
completion for portraits and dashboards, evidence for the self sheet, the calendar)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from institutions import access
from institutions.models import Employee, Institution, Role

from . import rules
from .models import (
    Activity,
    ActivityKind,
    ArchiveJob,
    Campaign,
    EvidenceLink,
    Notice,
    NoticeRecipient,
    ReturnStatus,
    SelfChosenAction,
    TrainingHours,
    TrainingSession,
)

WRITERS = (Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)


# --- who ----------------------------------------------------------------------------------------

def writer_institution_ids(user) -> frozenset[int]:
    """Institutions whose ledger the user keeps: their filer or head memberships."""
    return access.member_institution_ids(user, *WRITERS)


def finance_district_ids(user) -> frozenset[int] | None:
    """The finance center's districts (None: every district, the administrator)."""
    return access.district_ids(user, Role.FINANCE_CENTER)


def may_use(user) -> bool:
    """Finance center somewhere, or filer/head of an institution: the app's pages are theirs."""
    districts = finance_district_ids(user)
    return districts is None or bool(districts) or bool(writer_institution_ids(user))


def _scope(queryset: QuerySet, user, institution_path: str = "institution") -> QuerySet:
    """Rows of the finance center's districts and of the user's own institutions (filer/head)."""
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    districts = finance_district_ids(user)
    if districts is None:
        return queryset
    condition = Q(**{f"{institution_path}__district_id__in": districts})
    own = writer_institution_ids(user)
    if own:
        condition |= Q(**{f"{institution_path}_id__in": own})
    return queryset.filter(condition)


def visible_institutions(user) -> QuerySet[Institution]:
    """The institutions whose year the user follows: the finance center's districts', own ones."""
    if not getattr(user, "is_authenticated", False):
        return Institution.objects.none()
    districts = finance_district_ids(user)
    qs = Institution.objects.select_related("district").order_by("code")
    if districts is None:
        return qs
    return qs.filter(Q(district_id__in=districts) | Q(pk__in=writer_institution_ids(user)))


# --- ledger -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilter:
    year: int | None = None
    institution: str = ""  # code
    category: str = ""  # KindCategory
    kind: int | None = None
    clause: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    search: str = ""


def activities(user, filters: LedgerFilter | None = None) -> QuerySet[Activity]:
    return (_ledger(user, filters).select_related("institution__district", "kind")
            .prefetch_related("clauses__item").annotate(files_count=Count("files", distinct=True))
            .order_by("-held_on", "-pk"))


def activities_count(user, filters: LedgerFilter | None = None) -> int:
    """How many activities `activities` gives (one COUNT, without its joins and annotation)."""
    return _ledger(user, filters).count()


def _ledger(user, filters: LedgerFilter | None) -> QuerySet[Activity]:
    qs = _scope(Activity.objects.all(), user)
    f = filters or LedgerFilter()
    if f.year:
        qs = qs.filter(year=f.year)
    if f.institution:
        qs = qs.filter(institution__code=f.institution)
    if f.category:
        qs = qs.filter(kind__category=f.category)
    if f.kind:
        qs = qs.filter(kind_id=f.kind)
    if f.clause:
        qs = qs.filter(clauses__id=f.clause)
    if f.date_from:
        qs = qs.filter(held_on__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(held_on__lte=f.date_to)
    if f.search:
        qs = qs.filter(Q(title__icontains=f.search) | Q(description__icontains=f.search)
                       | Q(place__icontains=f.search))
    return qs


def activity_detail(user, pk: int) -> Activity | None:
    return (_scope(Activity.objects.all(), user).select_related("institution__district", "kind", "created_by")
            .prefetch_related("clauses__item", "participants", "files").filter(pk=pk).first())


def activity_counts(institution_ids, year: int) -> dict[int, int]:
    """Activities of the year per institution (one grouped query)."""
    return dict(Activity.objects.filter(institution_id__in=list(institution_ids), year=year).order_by()
                .values("institution_id").annotate(n=Count("pk")).values_list("institution_id", "n"))


def kinds_for(district_id: int) -> QuerySet[ActivityKind]:
    return ActivityKind.objects.filter(district_id=district_id, is_active=True).order_by("position", "pk")


# --- trainings ----------------------------------------------------------------------------------

def trainings(user, year: int | None = None, institution: str = "") -> QuerySet[TrainingSession]:
    qs = _scope(TrainingSession.objects.all(), user).select_related("institution__district")
    if year:
        qs = qs.filter(year=year)
    if institution:
        qs = qs.filter(institution__code=institution)
    return qs.annotate(attendees=Count("attendance")).order_by("-held_on", "-pk")


def training_detail(user, pk: int) -> TrainingSession | None:
    return (_scope(TrainingSession.objects.all(), user).select_related("institution__district")
            .prefetch_related(Prefetch("attendance", queryset=_attendance_qs()), "clauses__item")
            .filter(pk=pk).first())


def _attendance_qs():
    from .models import Attendance

    return Attendance.objects.select_related("employee").order_by("employee__employee_no")


def required_hours() -> Decimal:
    return Decimal(str(getattr(settings, "ACTIVITIES_TRAINING_HOURS_REQUIRED", 8)))


@dataclass(frozen=True)
class EmployeeCompletion:
    employee_id: int
    year: int
    hours: Decimal
    sessions: int
    required: Decimal
    completed: bool


def employee_completion(employee_id: int, year: int) -> EmployeeCompletion:
    """An employee's training hours of the year and whether they reach the requirement (for the
    portrait). Reads the stored figures (TrainingHours)."""
    row = TrainingHours.objects.filter(employee_id=employee_id, year=year).values("hours", "sessions").first()
    hours = row["hours"] if row else Decimal("0")
    required = required_hours()
    return EmployeeCompletion(employee_id, year, hours, row["sessions"] if row else 0, required,
                              rules.completed(hours, required))


@dataclass(frozen=True)
class InstitutionCompletion:
    institution_id: int
    year: int
    employees: int
    completed: int
    rate: Decimal | None  # percent, one decimal
    hours: Decimal


def institution_completion(institution_ids, year: int, *, among: QuerySet | None = None
                           ) -> dict[int, InstitutionCompletion]:
    """Per institution: active employees, how many reached the year's required hours, the rate (for
    the dashboards). Two grouped queries, whatever the number of institutions. `among`: a subquery of
    institution ids holding them (a district's), read by the queries instead of thousands of ids as
    parameters (a province's 5,000 took 0.1 s to pass)."""
    ids = list(institution_ids)
    required = required_hours()
    within = ids if among is None else among
    staff = dict(Employee.objects.filter(institution_id__in=within, is_active=True).values("institution_id")
                 .annotate(n=Count("pk")).values_list("institution_id", "n"))
    done = {r["institution_id"]: r for r in TrainingHours.objects.filter(
        institution_id__in=within, year=year, employee__is_active=True).values("institution_id").annotate(
        completed=Count("pk", filter=Q(hours__gte=required)), hours=Sum("hours"))}
    out = {}
    for pk in ids:
        employees = staff.get(pk, 0)
        row = done.get(pk, {})
        completed = min(row.get("completed", 0), employees)
        out[pk] = InstitutionCompletion(pk, year, employees, completed, rules.rate(completed, employees),
                                        row.get("hours") or Decimal("0"))
    return out


def _completion_sql(institutions: QuerySet, year: int) -> tuple[str, list]:
    """SQL of one row per institution of `institutions` (a queryset): id, code, name, active employees and
    completed (capped at the employees), the figures of `institution_completion`, each grouped table read
    once (correlated subqueries per institution were 5 times slower at 5,000 institutions)."""
    ids_sql, ids_params = institutions.order_by().values("pk").query.sql_with_params()
    inst, emp, th = Institution._meta.db_table, Employee._meta.db_table, TrainingHours._meta.db_table
    sql = f"""
        SELECT i.id, i.code, i.name, COALESCE(s.n, 0) AS employees,
               CASE WHEN COALESCE(d.n, 0) < COALESCE(s.n, 0) THEN COALESCE(d.n, 0) ELSE COALESCE(s.n, 0) END
                   AS completed
        FROM {inst} i
        LEFT JOIN (SELECT institution_id, COUNT(*) AS n FROM {emp}
                   WHERE is_active = %s AND institution_id IN ({ids_sql}) GROUP BY institution_id) s
            ON s.institution_id = i.id
        LEFT JOIN (SELECT h.institution_id, COUNT(*) AS n FROM {th} h JOIN {emp} e ON e.id = h.employee_id
                   WHERE h.year = %s AND h.hours >= %s AND e.is_active = %s AND h.institution_id IN ({ids_sql})
                   GROUP BY h.institution_id) d
            ON d.institution_id = i.id
        WHERE i.id IN ({ids_sql})"""  # noqa: S608 (table names and the ORM's own SQL; every value is a parameter)
    return sql, [True, *ids_params, year, required_hours(), True, *ids_params, *ids_params]


def completion_attention_first(institutions: QuerySet, year: int, limit: int) -> tuple[list, dict]:
    """Of `institutions` (a queryset), in one query: the (id, code, name) of the first `limit` by lowest
    completion rate (none, without employees, last), then most employees, then code — the dashboards'
    trainings panel order, the rate rounded half up to tenths of a percent as `rules.rate` does (in integer
    arithmetic: the same on PostgreSQL and SQLite) — and, over all of them, how many there are, their active
    employees and how many completed the year's hours (issue 16: the panel built 5,000 institutions' rows
    to show 20)."""
    sql, sql_params = _completion_sql(institutions, year)
    by_code = 'code COLLATE "C"' if connection.vendor == "postgresql" else "code"  # as Python sorts strings
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT id, code, name, COUNT(*) OVER (), SUM(employees) OVER (), SUM(completed) OVER ()
            FROM ({sql}) c
            ORDER BY CASE WHEN employees = 0 THEN 1 ELSE 0 END,
                     (2000 * completed + employees) / (2 * CASE WHEN employees = 0 THEN 1 ELSE employees END),
                     employees DESC, {by_code}
            LIMIT %s""", [*sql_params, limit])  # noqa: S608 (the SQL above; every value is a parameter)
        rows = cursor.fetchall()
    count, employees, completed = rows[0][3:] if rows else (0, 0, 0)
    return ([(pk, code, name) for pk, code, name, *_ in rows],
            {"institutions": int(count), "employees": int(employees), "completed": int(completed)})


def employee_hours(institution_id: int, year: int) -> list[dict]:
    """Every active employee of the institution with their hours of the year, for the training page."""
    hours = dict(TrainingHours.objects.filter(institution_id=institution_id, year=year)
                 .values_list("employee_id", "hours"))
    required = required_hours()
    rows = []
    for employee in Employee.objects.filter(institution_id=institution_id, is_active=True).order_by("employee_no"):
        value = hours.get(employee.pk, Decimal("0"))
        rows.append({"employee": employee, "hours": value, "completed": rules.completed(value, required)})
    return rows


# --- self-chosen actions ------------------------------------------------------------------------

def actions(user, year: int | None = None, showcase: bool | None = None) -> QuerySet[SelfChosenAction]:
    qs = _scope(SelfChosenAction.objects.all(), user).select_related("institution__district")
    if year:
        qs = qs.filter(year=year)
    if showcase is not None:
        qs = qs.filter(is_showcase=showcase)
    return qs.prefetch_related("clauses__item").order_by("-year", "-is_showcase", "institution__code", "pk")


def showcases(district_id: int, year: int | None = None) -> QuerySet[SelfChosenAction]:
    """The district's showcases (样板): for the district page (every user of the district) and for
    the inspection sheet's bonus indicator."""
    qs = SelfChosenAction.objects.filter(institution__district_id=district_id, is_showcase=True)
    if year:
        qs = qs.filter(year=year)
    return qs.select_related("institution").prefetch_related("clauses__item").order_by("-year", "-showcase_at")


def showcase_institution_ids(district_id: int, year: int) -> set[int]:
    """Institutions with a showcase that year (what the inspection sheet's bonus indicator reads)."""
    return set(SelfChosenAction.objects.filter(institution__district_id=district_id, year=year, is_showcase=True)
               .values_list("institution_id", flat=True))


# --- notices ------------------------------------------------------------------------------------

def notices(user) -> QuerySet[Notice]:
    """The finance center: its districts' notices; filers and heads: those their institutions received."""
    if not getattr(user, "is_authenticated", False):
        return Notice.objects.none()
    districts = finance_district_ids(user)
    qs = Notice.objects.select_related("district", "campaign")
    if districts is None:
        return qs
    condition = Q(district_id__in=districts)
    own = writer_institution_ids(user)
    if own:
        condition |= Q(pk__in=NoticeRecipient.objects.filter(institution_id__in=own).values("notice_id"))
    return qs.filter(condition)


def recipients(user) -> QuerySet[NoticeRecipient]:
    return _scope(NoticeRecipient.objects.all(), user).select_related("notice__district", "institution")


def pending_returns_count(user) -> int:
    """Returns the user's institutions still owe (pending or sent back): the home page's to-do."""
    own = writer_institution_ids(user)
    if not own:
        return 0
    return NoticeRecipient.objects.filter(institution_id__in=own,
                                          return_status__in=[ReturnStatus.PENDING, ReturnStatus.RETURNED]).count()


def receipt_of(user, notice: Notice) -> NoticeRecipient | None:
    """The first of the user's own institutions' receipts of a notice (filer/head), else None."""
    own = writer_institution_ids(user)
    if not own:
        return None
    return (NoticeRecipient.objects.filter(notice=notice, institution_id__in=own).select_related("institution")
            .order_by("institution__code").first())


@dataclass(frozen=True)
class NoticeStats:
    recipients: int
    read: int
    asked: int
    returned: int
    accepted: int
    late: int
    read_rate: Decimal | None
    return_rate: Decimal | None


def notice_stats(notice_ids, today: dt.date | None = None) -> dict[int, NoticeStats]:
    today = today or dt.date.today()
    rows = (NoticeRecipient.objects.filter(notice_id__in=list(notice_ids)).values("notice_id").annotate(
        n=Count("pk"), read=Count("pk", filter=Q(read_at__isnull=False)),
        asked=Count("pk", filter=~Q(return_status="")),
        returned=Count("pk", filter=Q(return_status__in=[ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED])),
        accepted=Count("pk", filter=Q(return_status=ReturnStatus.ACCEPTED)),
        late_done=Count("pk", filter=Q(return_status__in=[ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED],
                                       returned_at__date__gt=F("due_on"))),
        missing_late=Count("pk", filter=Q(return_status__in=[ReturnStatus.PENDING, ReturnStatus.RETURNED],
                                          due_on__lt=today)),
    ))
    return {r["notice_id"]: NoticeStats(r["n"], r["read"], r["asked"], r["returned"], r["accepted"],
                                        r["late_done"] + r["missing_late"], rules.rate(r["read"], r["n"]),
                                        rules.rate(r["returned"], r["asked"])) for r in rows}


def is_late(recipient: NoticeRecipient, today: dt.date | None = None) -> bool:
    today = today or dt.date.today()
    if not recipient.return_status:
        return False
    returned_on = recipient.returned_at.date() if recipient.returned_at and recipient.return_status in (
        ReturnStatus.SUBMITTED, ReturnStatus.ACCEPTED) else None
    return rules.is_late(recipient.due_on, returned_on, today)


def campaigns(user) -> QuerySet[Campaign]:
    if not getattr(user, "is_authenticated", False):
        return Campaign.objects.none()
    districts = finance_district_ids(user)
    qs = Campaign.objects.select_related("district")
    if districts is None:
        return qs
    condition = Q(district_id__in=districts)
    own = writer_institution_ids(user)
    if own:  # a campaign is the whole district's: its institutions see it
        condition |= Q(district_id__in=Institution.objects.filter(pk__in=own).values("district_id"))
    return qs.filter(condition)


def campaign_stats(campaign: Campaign) -> NoticeStats:
    stats = notice_stats(campaign.notices.values_list("pk", flat=True)).values()
    total = [sum(getattr(s, f) for s in stats) for f in ("recipients", "read", "asked", "returned", "accepted",
                                                          "late")]
    return NoticeStats(*total, rules.rate(total[1], total[0]), rules.rate(total[3], total[2]))


# --- evidence -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvidenceOption:
    source: str  # EvidenceSource
    object_id: int
    label: str
    on: dt.date | None
    attached: bool


def evidence_options(institution_id: int, year: int, clause_id: int | None,
                     assessment_id: int | None = None, indicator_code: str = "") -> list[EvidenceOption]:
    """The year's activities, trainings, showcases and accepted returns of an institution on a clause
    (every one of the year when the clause is None), each marked when already attached to the
    indicator."""
    from .models import EvidenceSource

    attached = set()
    if assessment_id and indicator_code:
        attached = set(EvidenceLink.objects.filter(assessment_id=assessment_id, indicator_code=indicator_code)
                       .values_list("source", "object_id"))

    def on_clause(qs, path="clauses"):
        return qs.filter(**{f"{path}__id": clause_id}) if clause_id else qs

    out: list[EvidenceOption] = []
    for a in on_clause(Activity.objects.filter(institution_id=institution_id, year=year)).select_related(
            "kind").order_by("held_on", "pk").distinct():
        out.append(EvidenceOption(EvidenceSource.ACTIVITY, a.pk, f"{a.kind.name}：{a.title}", a.held_on,
                                  (EvidenceSource.ACTIVITY, a.pk) in attached))
    for t in on_clause(TrainingSession.objects.filter(institution_id=institution_id, year=year)).order_by(
            "held_on", "pk").distinct():
        out.append(EvidenceOption(EvidenceSource.TRAINING, t.pk,
                                  _("培训：{title}（{hours}学时）").format(title=t.title, hours=t.hours), t.held_on,
                                  (EvidenceSource.TRAINING, t.pk) in attached))
    for s in on_clause(SelfChosenAction.objects.filter(institution_id=institution_id, year=year,
                                                       is_showcase=True)).order_by("pk").distinct():
        out.append(EvidenceOption(EvidenceSource.SHOWCASE, s.pk, _("样板：{title}").format(title=s.title),
                                  s.showcase_at.date() if s.showcase_at else None,
                                  (EvidenceSource.SHOWCASE, s.pk) in attached))
    returns = NoticeRecipient.objects.filter(institution_id=institution_id, return_status=ReturnStatus.ACCEPTED,
                                             notice__published_at__year=year).select_related("notice")
    if clause_id:
        returns = returns.filter(notice__clause_id=clause_id)
    for r in returns.order_by("pk"):
        out.append(EvidenceOption(EvidenceSource.RETURN, r.pk, _("报送：{title}").format(title=r.notice.title),
                                  r.returned_at.date() if r.returned_at else None,
                                  (EvidenceSource.RETURN, r.pk) in attached))
    return out


# --- archive ------------------------------------------------------------------------------------

def archive_jobs(user) -> QuerySet[ArchiveJob]:
    if not getattr(user, "is_authenticated", False):
        return ArchiveJob.objects.none()
    districts = finance_district_ids(user)
    qs = ArchiveJob.objects.select_related("district", "institution")
    if districts is None:
        return qs
    condition = Q(district_id__in=districts)
    own = writer_institution_ids(user)
    if own:
        condition |= Q(institution_id__in=own)
    return qs.filter(condition)


def showcases_by_clause(institution_id: int, year: int) -> dict[str, list[str]]:
    """The institution's showcases (样板) of the year by the number of each clause they support
    ("" for those tied to no clause): what the inspection sheet shows beside a bonus indicator, so
    that the inspector can confirm the bonus on the district's own judgement. One query."""
    out: dict[str, list[str]] = {}
    rows = (SelfChosenAction.objects.filter(institution_id=institution_id, year=year, is_showcase=True)
            .values_list("title", "clauses__number").order_by("title"))
    for title, number in rows:
        titles = out.setdefault(number or "", [])
        if title not in titles:
            titles.append(title)
    return out
