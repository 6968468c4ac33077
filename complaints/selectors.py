"""Reads: who sees which case, the holiday schedule, public look-ups, statistics and the scoring feed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import NotFound
from core.workdays import HolidaySchedule
from institutions import access
from institutions.models import District, Institution, Role

from . import rules
from .crypto import hash_secret, normalize_receipt_code
from .models import (
    COUNTED_OUTCOMES,
    Complaint,
    ComplaintEvent,
    ComplaintExtension,
    ComplaintNote,
    ComplaintTally,
    HolidayDate,
    HolidayYear,
    Questionnaire,
    RetiredPublicCode,
    SatisfactionTally,
)

# --- holidays -------------------------------------------------------------------------------

_HOLIDAY_TTL = 60.0
_holiday_cache: dict[int, tuple[float, bool, frozenset[date], frozenset[date]]] = {}
_holiday_lock = threading.Lock()


def clear_holiday_cache() -> None:
    with _holiday_lock:
        _holiday_cache.clear()


def holiday_schedule(years: Iterable[int], *, fresh: bool = False) -> HolidaySchedule:
    """The official schedule for `years` from the editable table (cached per process for a minute)."""
    wanted = set(years)
    now = time.monotonic()
    rows: dict[int, tuple[bool, frozenset[date], frozenset[date]]] = {}
    if not fresh:
        with _holiday_lock:
            for year in list(wanted):
                hit = _holiday_cache.get(year)
                if hit and now - hit[0] < _HOLIDAY_TTL:
                    rows[year] = hit[1:]
    missing = wanted - set(rows)
    if missing:
        known = set(HolidayYear.objects.filter(year__in=missing).values_list("year", flat=True))
        holidays: dict[int, set[date]] = {y: set() for y in missing}
        workdays: dict[int, set[date]] = {y: set() for y in missing}
        for day, kind, year in HolidayDate.objects.filter(year_id__in=known).values_list("day", "kind", "year_id"):
            (holidays if kind == HolidayDate.Kind.HOLIDAY else workdays)[year].add(day)
        with _holiday_lock:
            for year in missing:
                entry = (year in known, frozenset(holidays[year]), frozenset(workdays[year]))
                _holiday_cache[year] = (now, *entry)
                rows[year] = entry
    return HolidaySchedule(
        holidays=frozenset().union(*(h for k, h, _ in rows.values() if k)),
        workdays=frozenset().union(*(w for k, _, w in rows.values() if k)),
        known_years=frozenset(y for y, (k, _, _) in rows.items() if k),
    )


# --- settings ---------------------------------------------------------------------------------


def satisfied_threshold() -> Decimal:
    """The mean rating from which an answer or a rating counts as satisfied
    (settings.COMPLAINTS_SATISFIED_THRESHOLD; 4 by default, 3 follows Zhejiang's 好差评 practice)."""
    return Decimal(str(settings.COMPLAINTS_SATISFIED_THRESHOLD))


# --- who sees what --------------------------------------------------------------------------

def _granted(user, role: str) -> frozenset[int]:
    """Districts where `role` was granted to the user (empty for the administrator: every district
    is theirs as the finance center, not as discipline)."""
    if access.is_superuser(user):
        return frozenset()
    return access.district_ids(user, role) or frozenset()


def visible_cases(user) -> QuerySet[Complaint]:
    """Cases the user may see: the finance center those of its districts; the discipline commission
    those forwarded to it in its districts; an institution's head those referred to their
    institution; the administrator all; nobody else (city users included) anything."""
    qs = Complaint.objects.all()
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    if access.is_superuser(user):
        return qs
    condition = Q(pk__in=[])
    finance = _granted(user, Role.FINANCE_CENTER)
    if finance:
        condition |= Q(institution__district_id__in=finance)
    discipline = _granted(user, Role.DISCIPLINE)
    if discipline:
        condition |= Q(forwarded_at__isnull=False, institution__district_id__in=discipline)
    heads = access.headed_institution_ids(user)
    if heads:
        condition |= Q(referred_at__isnull=False, institution_id__in=heads)
    return qs.filter(condition)


def can_use_queue(user) -> bool:
    return (access.is_finance_center(user) or bool(_granted(user, Role.DISCIPLINE))
            or bool(access.headed_institution_ids(user)))


def case_sides(user, case: Complaint) -> frozenset[str]:
    """The capacities in which `user` acts on `case` (see rules.TRANSITIONS): each only in the
    case's own district (or, for a head, their own institution)."""
    sides: set[str] = set()
    district_id = case.institution.district_id
    if access.is_finance_center(user, district_id):
        sides.add(rules.FINANCE_CENTER)
    if case.forwarded_at is not None and district_id in _granted(user, Role.DISCIPLINE):
        sides.add(rules.DISCIPLINE)
    if case.referred_at is not None and case.institution_id in access.headed_institution_ids(user):
        sides.add(rules.INSTITUTION)
    return frozenset(sides)


@dataclass(frozen=True)
class CasePolicy:
    """What a side may see of a case. The complainant's identity never reaches the institution."""

    identity: bool  # masked identity (and, for the finance center, reveal with a logged reason)
    images: bool
    internal_notes: bool  # every internal note; otherwise only the institution's own notes
    event_reasons: bool
    can_note: bool

    @classmethod
    def for_sides(cls, sides: frozenset[str]) -> CasePolicy:
        fc = rules.FINANCE_CENTER in sides
        disc = rules.DISCIPLINE in sides
        return cls(identity=fc, images=fc or disc, internal_notes=fc or disc, event_reasons=fc or disc,
                   can_note=bool(sides))


def queue_district(user, code: str) -> District:
    """One of the districts whose cases `user` handles, by code (`?district=`); NotFound otherwise."""
    code = (code or "").strip()
    district = (District.objects.filter(code=code, level=District.Level.DISTRICT).first()
                if code and len(code) <= 12 and "\x00" not in code else None)
    if district is not None and not access.is_superuser(user):
        handled = _granted(user, Role.FINANCE_CENTER) | _granted(user, Role.DISCIPLINE)
        if district.pk not in handled and not Institution.objects.filter(
                pk__in=access.headed_institution_ids(user), district=district).exists():
            district = None
    if district is None:
        raise NotFound(_("未找到该区县，或您无权访问"))
    return district


def case_list(user, *, status: str = "", kind: str = "", institution: str = "", overdue: bool | None = None,
              due: str = "", search: str = "", district: str = "") -> QuerySet[Complaint]:
    """The user's queue, filtered; `district` (a code) narrows to one of the user's districts."""
    qs = visible_cases(user).select_related("institution", "institution__district")
    if district:
        qs = qs.filter(institution__district=queue_district(user, district))
    qs = qs.filter(status=status) if status else qs.exclude(status=rules.MERGED)
    if kind:
        qs = qs.filter(kind=kind)
    if institution:
        qs = qs.filter(Q(institution__code=institution) | (Q(institution_id=int(institution))
                                                          if institution.isdigit() and len(institution) <= 18
                                                          else Q(pk__in=[])))
    today = timezone.localdate()
    if overdue is True:
        qs = qs.filter(next_due_on__lt=today)
    elif overdue is False:
        qs = qs.filter(Q(next_due_on__isnull=True) | Q(next_due_on__gte=today))
    if due == "soon":
        soon = today + timedelta(days=settings.COMPLAINTS_DUE_SOON_DAYS)
        qs = qs.filter(next_due_on__gte=today, next_due_on__lte=soon)
    if search:
        qs = qs.filter(Q(description__icontains=search) | Q(staff_name__icontains=search)
                       | Q(institution__name__icontains=search))
    return qs.order_by(F("next_due_on").asc(nulls_last=True), "-received_at", "-id")


def case_detail(user, pk: int) -> Complaint:
    """One visible case with its trail; Complaint.DoesNotExist (→ 404) for anything else."""
    return (visible_cases(user).select_related("institution", "institution__district", "assignee", "merged_into")
            .prefetch_related(Prefetch("events", queryset=ComplaintEvent.objects.select_related("actor")),
                              Prefetch("notes", queryset=ComplaintNote.objects.select_related("author")),
                              "images", "extension_records")
            .get(pk=pk))


def tracked_item(case: Complaint):
    """The tracked item (督办事项) a hand-over (交办) made of the case, or None."""
    if case.referred_at is None:
        return None
    from tracking import selectors as tracking

    return tracking.items_for("complaints", [case.pk]).get(case.pk)


def events_for(case: Complaint, policy: CasePolicy) -> list[ComplaintEvent]:
    """The case's log as a side may read it: the notices to a named complainant (masked number,
    channel, state) only for those who may see the identity (the finance center)."""
    events = list(case.events.all())
    if policy.identity:
        return events
    return [e for e in events if e.action not in rules.NOTICE_ACTIONS]


def complainant_notices(case: Complaint, policy: CasePolicy) -> list[dict]:
    """The SMS sent to a named complainant (acceptance, refusal, result) with their delivery state and
    failures, masked number only; the finance center's (empty for others and for anonymous cases)."""
    if not policy.identity or case.anonymous:
        return []
    from notifications import selectors as notifications

    return notifications.case_notices(case.pk)


def notes_for(case: Complaint, policy: CasePolicy) -> list[ComplaintNote]:
    notes = list(case.notes.all())
    if policy.internal_notes:
        return notes
    return [n for n in notes if n.is_public or n.author_side == ComplaintNote.AuthorSide.INSTITUTION]


def duplicate_candidates(case: Complaint, limit: int = 10) -> list[Complaint]:
    """Open cases of the same institution and kind that look like the same matter (merge targets)."""
    if case.kind not in ("suggestion", "complaint") or case.status not in rules.OPEN_STATES:
        return []
    window = settings.COMPLAINTS_DUPLICATE_WINDOW_DAYS
    day = case.received_on
    start = timezone.make_aware(datetime.combine(day - timedelta(days=window), datetime.min.time()))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=window + 1), datetime.min.time()))
    candidates = (Complaint.objects.filter(institution_id=case.institution_id, kind=case.kind,
                                           received_at__gte=start, received_at__lt=end,
                                           status__in=rules.OPEN_STATES - {rules.CONCLUDED})
                  .exclude(pk=case.pk).only("id", "staff_name", "description", "received_at", "status", "kind")
                  .order_by("received_at")[:200])
    out = [c for c in candidates if rules.is_probable_duplicate(
        a_staff=case.staff_name, b_staff=c.staff_name, a_text=case.description, b_text=c.description,
        a_day=day, b_day=c.received_on, window_days=window)]
    return out[:limit]


# --- public look-ups ------------------------------------------------------------------------


_CODE_TTL = 30.0
_code_cache: dict[str, tuple[float, Institution]] = {}


def clear_code_cache() -> None:
    _code_cache.clear()


def institution_for_code(code: str, *, cached: bool = False) -> tuple[Institution | None, RetiredPublicCode | None]:
    """(institution, None) for a live code; (None, retired) for a replaced one; (None, None) otherwise.

    `cached`: for the intake hot path, live codes are remembered per process for 30 s (a replaced or
    deactivated code may be accepted that much longer by other processes).
    """
    now = time.monotonic()
    if cached:
        hit = _code_cache.get(code)
        if hit and now - hit[0] < _CODE_TTL:
            return hit[1], None
    institution = Institution.objects.filter(public_code=code).select_related("district").first()
    if institution is not None:
        if cached and len(code) <= 64:
            if len(_code_cache) > 10_000:
                _code_cache.clear()
            _code_cache[code] = (now, institution)
        return institution, None
    retired = RetiredPublicCode.objects.filter(code=code).select_related("institution").first()
    return None, retired


def find_by_receipt(raw_code: str) -> Complaint | None:
    code = normalize_receipt_code(raw_code)
    if not code or len(code) > 40:
        return None
    return (Complaint.objects.select_related("institution", "merged_into", "merged_into__institution")
            .filter(receipt_hash=hash_secret(code, "receipt")).first())


@dataclass(frozen=True)
class PublicView:
    """What the public sees of a case: status, dates and public replies, never internal notes."""

    case: Complaint
    shown: Complaint  # the case whose progress is shown (the merge target for a merged duplicate)
    timeline: list[tuple[str, datetime]]
    replies: list[ComplaintNote]
    merged: bool
    # Extensions of the period (new date and reason; never the internal approval), and the date by
    # which the case is to be decided or concluded (None for ratings and once it is decided).
    extensions: list[ComplaintExtension] = field(default_factory=list)
    due_on: date | None = None


def public_view(case: Complaint) -> PublicView:
    shown = case.merged_into if case.merged_into_id else case
    timeline = [(_("已接收"), case.received_at)]
    for label, value in ((_("已受理"), shown.accepted_at), (_("不予受理"), shown.rejected_at),
                         (_("初核"), shown.verifying_at),
                         (_("已转有关部门办理"), shown.forwarded_at or shown.referred_at),
                         (_("已出结论"), shown.concluded_at), (_("已办结"), shown.closed_at)):
        if value:
            timeline.append((label, value))
    if case.merged_into_id:
        timeline.insert(1, (_("与同类反映合并办理"), case.closed_at or case.received_at))
    replies = list(ComplaintNote.objects.filter(complaint=shown, is_public=True).order_by("created_at"))
    extensions = list(ComplaintExtension.objects.filter(complaint=shown).order_by("number"))
    due_on = None
    if shown.status in rules.OPEN_STATES - {rules.CONCLUDED}:
        for key in ("decide", "conclude", "accept"):
            if key in (shown.deadlines or {}):
                due_on = date.fromisoformat(shown.deadlines[key]["date"])
                break
    return PublicView(case=case, shown=shown, timeline=timeline, replies=replies, merged=bool(case.merged_into_id),
                      extensions=extensions, due_on=due_on)


def active_questionnaire(year: int | None = None) -> Questionnaire | None:
    year = year or timezone.localdate().year
    return (Questionnaire.objects.filter(year=year, is_active=True).prefetch_related("questions").first())


# --- statistics and the scoring feed --------------------------------------------------------


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()  # Asia/Shanghai
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def outcome_counts_by_institution(year: int, *, district: int | None = None,
                                  institutions: Iterable[int] | None = None,
                                  districts: Iterable[int] | None = None) -> dict[int, tuple[int, int]]:
    """institution id → (substantiated, partially substantiated) over complaints received in `year`
    (Asia/Shanghai) whose concluded outcome is that, in one district (its id) when given, of those
    institutions (ids) when given, in those districts (ids) when given. Feeds SCORING.md step 4 (the
    deduction)."""
    start, end = _year_bounds(year)
    rows = Complaint.objects.filter(received_at__gte=start, received_at__lt=end,
                                    status__in=[rules.CONCLUDED, rules.CLOSED], outcome__in=COUNTED_OUTCOMES)
    if district is not None:
        rows = rows.filter(institution__district_id=district)
    if institutions is not None:
        rows = rows.filter(institution_id__in=list(institutions))
    if districts is not None:
        rows = rows.filter(institution__district_id__in=list(districts))
    rows = (rows.values("institution_id")
            .annotate(full=Count("id", filter=Q(outcome="substantiated")),
                      partial=Count("id", filter=Q(outcome="partially_substantiated"))))
    return {r["institution_id"]: (r["full"], r["partial"]) for r in rows}


def outcome_changes_since(year: int, since: datetime) -> list[tuple[int, int, datetime]]:
    """(district id, institution id, latest conclusion) of every institution a complaint received in
    `year` was concluded against, substantiated or partially, after `since`: the institutions whose
    `outcome_counts_by_institution` changed since then (issue 16's re-aggregation of changes).

    A conclusion is the only event that changes those counts: only `conclude` sets an outcome (and
    `concluded_at`), a case keeps it when closed, is merged only before it, and never changes its
    institution (a merge requires the same one). Read through the `complaint_counted_conclusion` index."""
    start, end = _year_bounds(year)
    rows = (Complaint.objects.filter(concluded_at__gt=since, outcome__in=COUNTED_OUTCOMES,
                                     received_at__gte=start, received_at__lt=end)
            .order_by().values_list("institution__district_id", "institution_id")
            .annotate(latest=Max("concluded_at")))
    return list(rows)


@dataclass(frozen=True)
class StatsScope:
    """Whose complaints a user's statistics count: `where` restricts rows with an `institution`
    (Complaint, SatisfactionTally); None counts everything (the administrator)."""

    where: Q | None
    district: District | None = None  # the district chosen with ?district=, if any


STATS_ROLES = (Role.FINANCE_CENTER, Role.CITY)


def stats_scope(user, district_code: str = "") -> StatsScope | None:
    """The statistics `user` may read: the finance center and city users those of their districts
    (aggregates only), an institution's head their own institution's, the administrator all; None
    for anyone else. `district_code` narrows to one of the user's districts (NotFound otherwise)."""
    if not getattr(user, "is_authenticated", False):
        return None
    granted = access.district_ids(user, *STATS_ROLES)  # None: every district
    heads = access.headed_institution_ids(user)
    if granted is not None and not granted and not heads:
        return None
    district = None
    code = (district_code or "").strip()
    if code:
        district = (District.objects.filter(code=code, level=District.Level.DISTRICT).first()
                    if len(code) <= 12 and "\x00" not in code else None)
        reachable = granted is None or (district is not None and (
            district.pk in granted or Institution.objects.filter(pk__in=heads, district=district).exists()))
        if district is None or not reachable:
            raise NotFound(_("未找到该区县，或您无权访问"))
    if granted is None:
        return StatsScope(where=None if district is None else Q(institution__district=district), district=district)
    where = Q(institution__district_id__in=granted) | Q(institution_id__in=heads)
    if district is not None:
        where &= Q(institution__district=district)
    return StatsScope(where=where, district=district)


@dataclass
class Statistics:
    year: int
    total: int
    by_kind: dict[str, int]
    by_month: dict[int, int]
    by_outcome: dict[str, int]
    by_institution: list[dict]
    concluded: int
    substantiation_rate: Decimal | None
    average_handling_days: Decimal | None
    on_time: int
    on_time_rate: Decimal | None
    satisfaction_by_month: dict[int, dict]
    # (month, kind) → cases received: the stacked monthly series, from the same grouped scan
    by_month_kind: dict[tuple[int, str], int] = field(default_factory=dict)


def _tallied(year: int, institution_ids: frozenset[int] | None, category: str, where: Q | None) -> QuerySet:
    """The year's monthly tally rows (models.ComplaintTally: the cases counted, merged duplicates left
    out), restricted as asked. `where` (a StatsScope's condition) names fields through `institution`,
    which a tally has as a case does."""
    qs = ComplaintTally.objects.filter(year=year)
    if institution_ids is not None:
        qs = qs.filter(institution_id__in=institution_ids)
    if where is not None:
        qs = qs.filter(where)
    if category:
        qs = qs.filter(institution__category=category)
    return qs


def statistics_by_institution(year: int, *, institution_ids: frozenset[int] | None = None, category: str = "",
                              where: Q | None = None) -> QuerySet:
    """Per institution with cases (in code order), summed in SQL from the monthly tallies: counts by
    kind and outcome, and what the mean rating needs. A queryset of dicts, so a page can take a slice;
    `with_substantiation_rates` adds the rate and the mean rating."""
    def cases(**kw):
        return Sum("cases", filter=Q(**kw), default=0)

    return (_tallied(year, institution_ids, category, where)
            .values("institution_id", "institution__code", "institution__name")
            .annotate(total=Sum("cases", default=0), ratings=cases(kind="rating"),
                      suggestions=cases(kind="suggestion"), complaints=cases(kind="complaint"),
                      reports=cases(kind="report"), substantiated=cases(outcome="substantiated"),
                      partially=cases(outcome="partially_substantiated"),
                      unsubstantiated=cases(outcome="unsubstantiated"),
                      scored=Sum("scored", default=0), score_sum=Sum("score_sum", default=0))
            .filter(total__gt=0)
            .order_by("institution__code"))


def statistics_institution_count(year: int, *, institution_ids: frozenset[int] | None = None, category: str = "",
                                 where: Q | None = None) -> int:
    """How many rows `statistics_by_institution` gives (one COUNT of the distinct institutions)."""
    return (_tallied(year, institution_ids, category, where).filter(cases__gt=0)
            .values("institution_id").distinct().count())


def cases_by_district(year: int, *, institution_ids=None) -> dict[int, int]:
    """district id → cases received in `year` (merged duplicates left out) at those institutions (ids,
    or a subquery of ids; all when None), from the monthly tallies: one grouped query."""
    rows = (_tallied(year, institution_ids, "", None).values("institution__district_id")
            .annotate(n=Sum("cases")).filter(n__gt=0).order_by())
    return {row["institution__district_id"]: row["n"] for row in rows}


def with_substantiation_rates(rows) -> list[dict]:
    """`statistics_by_institution` rows (all or a page's) with their substantiation rate and mean
    rating (`avg_rating`: the mean of the cases' three scores, over the cases that gave all three; a
    float, as the average over the cases was; None without such a case)."""
    rows = list(rows)
    for row in rows:
        row["substantiation_rate"] = rules.substantiation_rate(
            row["substantiated"], row["partially"], row["substantiated"] + row["partially"] + row["unsubstantiated"])
        scored, score_sum = row.pop("scored"), row.pop("score_sum")
        row["avg_rating"] = score_sum / (3 * scored) if scored else None
    return rows


def statistics(year: int, *, institution_ids: frozenset[int] | None = None, category: str = "",
               where: Q | None = None, per_institution: bool = True, satisfaction: bool = True) -> Statistics:
    """Counts by institution, kind, month and outcome; substantiation, handling time and on-time rates.

    `institution_ids` and `where` (a StatsScope's condition) restrict the complaints counted. Without
    `per_institution` the per-institution rows are left empty (a page lists them a page at a time);
    without `satisfaction` the satisfaction by month too.

    Read from the monthly tallies (issue 16: was a scan of the year's cases on each request), one
    grouped query by month, kind and outcome (at most 12 × 4 × 4 rows); the totals are summed here.
    The handling figures count concluded cases: handling time from receipt to conclusion in calendar
    days, on time when concluded by the deciding deadline (rules.met_deadline)."""
    by_kind: dict[str, int] = {}
    by_month: dict[int, int] = {}
    by_outcome: dict[str, int] = {}
    by_month_kind: dict[tuple[int, str], int] = {}
    timing = {"timed": 0, "days": 0, "on_time": 0}
    rows = (_tallied(year, institution_ids, category, where).values("month", "kind", "outcome")
            .annotate(n=Sum("cases"), timed=Sum("timed"), days=Sum("handling_days"), on_time=Sum("on_time"))
            .order_by())
    for row in rows:
        if not row["n"]:
            continue
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + row["n"]
        by_month_kind[row["month"], row["kind"]] = by_month_kind.get((row["month"], row["kind"]), 0) + row["n"]
        by_month[row["month"]] = by_month.get(row["month"], 0) + row["n"]
        if row["outcome"]:  # concluded: the handling figures count
            by_outcome[row["outcome"]] = by_outcome.get(row["outcome"], 0) + row["n"]
            for key in timing:
                timing[key] += row[key]
    concluded = sum(by_outcome.values())
    on_time = timing["on_time"]
    avg_days = ((Decimal(timing["days"]) / timing["timed"]).quantize(Decimal("0.1"))
                if timing["timed"] else None)
    per_inst = with_substantiation_rates(statistics_by_institution(
        year, institution_ids=institution_ids, category=category, where=where)) if per_institution else []
    return Statistics(
        year=year, total=sum(by_kind.values()), by_kind=by_kind, by_month=dict(sorted(by_month.items())),
        by_outcome=by_outcome, by_institution=per_inst, concluded=concluded,
        substantiation_rate=rules.substantiation_rate(by_outcome.get("substantiated", 0),
                                                      by_outcome.get("partially_substantiated", 0), concluded),
        average_handling_days=avg_days, on_time=on_time,
        on_time_rate=(Decimal(100) * on_time / concluded).quantize(Decimal("0.1")) if concluded else None,
        satisfaction_by_month=satisfaction_by_month(year, institution_ids=institution_ids, category=category,
                                                    where=where) if satisfaction else {},
        by_month_kind=by_month_kind,
    )


def satisfaction_by_month(year: int, *, institution_ids: frozenset[int] | None = None,
                          category: str = "", where: Q | None = None, per: str = "") -> dict:
    """month → {"rated", "satisfied", "rate"} over questionnaire answers and public ratings.

    Counted in SQL from two monthly tallies: the answers' (models.SatisfactionTally) and the cases'
    (models.ComplaintTally: a rating with at least one 1–5 score is rated, and satisfied when the mean
    of its given scores is at least satisfied_threshold(), rules.is_satisfied). `institution_ids` (ids,
    or a subquery of institution ids), `where` and `category` restrict the institutions counted; with
    `per` ("institution" or "district") the keys are (that id, month).
    """
    return satisfaction_by_year_and_month([year], institution_ids=institution_ids, category=category, where=where,
                                          per=per)[year]


def satisfaction_by_year_and_month(years: list[int], *, institution_ids: frozenset[int] | None = None,
                                   category: str = "", where: Q | None = None, per: str = "") -> dict[int, dict]:
    """year → satisfaction_by_month of that year, for several years in the same two queries."""
    keys = {"": (), "institution": ("institution_id",), "district": ("institution__district_id",)}[per]
    answers = SatisfactionTally.objects.filter(year__in=years)
    ratings = ComplaintTally.objects.filter(year__in=years, kind="rating", rated__gt=0)
    if institution_ids is not None:
        answers = answers.filter(institution_id__in=institution_ids)
        ratings = ratings.filter(institution_id__in=institution_ids)
    if where is not None:
        answers = answers.filter(where)
        ratings = ratings.filter(where)
    if category:
        answers = answers.filter(institution__category=category)
        ratings = ratings.filter(institution__category=category)
    out: dict[int, dict] = {year: {} for year in years}
    for tallies in (answers, ratings):
        for row in tallies.values(*keys, "year", "month").annotate(n=Sum("rated"), s=Sum("satisfied")).order_by():
            key = (*(row[k] for k in keys), row["month"])
            entry = out[row["year"]].setdefault(key if keys else key[0], {"rated": 0, "satisfied": 0})
            entry["rated"] += row["n"]
            entry["satisfied"] += row["s"]
    for months in out.values():
        for entry in months.values():
            entry["rate"] = rules.satisfaction_rate(entry["satisfied"], entry["rated"])
    return {year: dict(sorted(months.items())) for year, months in out.items()}


def satisfaction_by_institution_month(year: int, *, where: Q | None = None) -> dict[tuple[int, int], dict]:
    """(institution id, month) → {"rated", "satisfied", "rate"}: the satisfaction rate per institution per
    month (of the institutions `where`, a StatsScope's condition, keeps)."""
    return {key: entry for key, entry in satisfaction_by_month(year, where=where, per="institution").items()
            if entry["rated"]}


def due_reminder_candidates(today: date, soon_days: int) -> QuerySet[Complaint]:
    return (Complaint.objects.filter(status__in=rules.OPEN_STATES, next_due_on__isnull=False,
                                     next_due_on__lte=today + timedelta(days=soon_days))
            .select_related("institution"))
