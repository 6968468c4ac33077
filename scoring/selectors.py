"""Read queries for scoring: who sees which results and assessments."""

from __future__ import annotations

from django.db.models import Count, Exists, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from institutions import access
from institutions.models import Role

from .models import (
    Assignment,
    DistrictYear,
    Indicator,
    Result,
    ScoreSheet,
    SheetEntry,
    Source,
    YearStatus,
)

REACHED_NOTICE = (YearStatus.NOTICE, YearStatus.PUBLISHED)


class ItemCents(Func):
    """A result's stored points on one item, in cents (`Result.item_cents`), as an integer column of a
    query (NULL when the item is not in its scheme): `Result.objects.annotate(cents=ItemCents(3))`.

    Django's own key lookup (`item_cents__3`) takes a key made of digits for a position in a JSON
    array, so the object's key is looked up here explicitly, on PostgreSQL and SQLite."""

    output_field = IntegerField()

    def __init__(self, number: int, field: str = "item_cents") -> None:
        self.number = int(number)
        super().__init__(F(field))

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(({sql}) ->> %s::text)::integer", (*params, str(self.number))

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"CAST(json_extract({sql}, %s) AS INTEGER)", (*params, f'$."{self.number}"')


def year_reached(statuses, district_path: str = "district_id", year_path: str = "year") -> Exists:
    """A condition on rows with a district and a year: that district's year is in one of `statuses`."""
    return Exists(DistrictYear.objects.filter(district_id=OuterRef(district_path), year=OuterRef(year_path),
                                              status__in=list(statuses)))


def visible_results(user) -> QuerySet[Result]:
    """Results as DOMAIN.md's "Results are seen in stages" says: before the notice period the
    district's finance center only; from the notice period on, each institution's filer and head
    their own; once published, the district's API clients, discipline commission and city users.
    Inspectors and the third party see the entries of their own sheets, not results."""
    qs = Result.objects.select_related("institution", "district")
    if not getattr(user, "is_authenticated", False):
        return qs.none()
    finance = access.district_ids(user, Role.FINANCE_CENTER)
    if finance is None:
        return qs
    condition = Q(district_id__in=finance)
    own = access.member_institution_ids(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
    if own:
        condition |= Q(institution_id__in=own) & year_reached(REACHED_NOTICE)
    readers = access.district_ids(user, Role.API_CLIENT, Role.DISCIPLINE, Role.CITY)
    if readers:
        condition |= Q(district_id__in=readers, status=Result.Status.PUBLISHED)
    return qs.filter(condition)


def can_see_result(user, assessment) -> bool:
    return visible_results(user).filter(institution_id=assessment.institution_id, year=assessment.year).exists()


def district_year_status(assessment) -> str:
    return (DistrictYear.objects.filter(district_id=assessment.institution.district_id, year=assessment.year)
            .values_list("status", flat=True).first() or YearStatus.OPEN)


def visible_sources(user, assessment) -> list[str]:
    """Which sheets of an assessment the user may read: the finance center all; from the notice period
    on, whoever sees the result; the institution its own self sheet; reviewers theirs and the claim."""
    if access.is_finance_center(user, assessment.institution.district_id):
        return list(Source.values)
    sources = set()
    if district_year_status(assessment) in REACHED_NOTICE and can_see_result(user, assessment):
        sources |= set(Source.values)
    if assessment.institution_id in access.member_institution_ids(user, Role.INSTITUTION_FILER,
                                                                   Role.INSTITUTION_HEAD):
        sources.add(Source.SELF)
    district_id = assessment.institution.district_id
    reviewer_roles = {Source.INSPECTION: Role.INSPECTOR, Source.THIRD_PARTY: Role.THIRD_PARTY}
    assigned = {source for source in Assignment.objects.filter(
        user=user, institution_id=assessment.institution_id, year=assessment.year).values_list("source", flat=True)
        if access.acts_in(user, district_id, reviewer_roles.get(source, Role.INSPECTOR))}
    if assigned:
        sources |= assigned | {Source.SELF}  # reviewers see the institution's claim beside their own
    return [s for s in Source.values if s in sources]


def sheets_with_progress(assessment_ids) -> dict[int, list[dict]]:
    """Per assessment: each sheet's status and how many indicators are filled, in one query."""
    # Counted per sheet through the entries' sheet index (a subquery): a join of a page's 300 sheets
    # with the entries was planned as a scan of a province's 555,000 entries (0.15 s).
    filled = (SheetEntry.objects.filter(Q(points__isnull=False) | Q(hit__isnull=False), sheet=OuterRef("pk"))
              .order_by().values("sheet").annotate(n=Count("pk")).values("n"))
    rows = (ScoreSheet.objects.filter(assessment_id__in=assessment_ids)
            .annotate(filled=Coalesce(Subquery(filled), 0))
            .order_by("assessment_id", "source"))
    out: dict[int, list[dict]] = {}
    for sheet in rows:
        out.setdefault(sheet.assessment_id, []).append(sheet)
    return out


def indicators_with_entries(assessment, sources: list[str]):
    """The scheme's indicators, each with `by_source` {source: entry}, in two queries."""
    indicators = list(Indicator.objects.filter(scheme_id=assessment.scheme_id)
                      .select_related("clause__item").order_by("position", "code"))
    entries = (SheetEntry.objects.filter(sheet__assessment=assessment, sheet__source__in=sources)
               .select_related("sheet", "indicator").prefetch_related(Prefetch("evidence")))
    by_indicator: dict[int, dict[str, SheetEntry]] = {}
    for entry in entries:
        by_indicator.setdefault(entry.indicator_id, {})[entry.sheet.source] = entry
    for indicator in indicators:
        indicator.by_source = by_indicator.get(indicator.pk, {})
    return indicators


# --------------------------------------------------------------------------------------------
# Page reads (the views hold no queries of their own)


def current_year() -> int | None:
    """The year a page opens on: the latest not yet published anywhere, else the latest scheme's."""
    from .models import Scheme

    latest = (DistrictYear.objects.exclude(status=YearStatus.PUBLISHED).order_by("-year")
              .values_list("year", flat=True).first())
    return latest or Scheme.objects.order_by("-year").values_list("year", flat=True).first()


def scheme_years() -> list[int]:
    from .models import Scheme

    return sorted(set(Scheme.objects.values_list("year", flat=True)), reverse=True)


def sheet_of(assessment, source: str):
    return ScoreSheet.objects.filter(assessment=assessment, source=source).first()


def sheets_by_source(assessment) -> dict:
    return {s.source: s for s in ScoreSheet.objects.filter(assessment=assessment)}


def assessment_history(assessment, limit: int = 30):
    """(events newest first, objections) of an assessment."""
    events = list(assessment.events.select_related("actor").order_by("-at")[:limit])
    objections = list(assessment.objections.select_related("filed_by", "decided_by"))
    return events, objections


def visible_result_of(user, assessment):
    return visible_results(user).filter(institution_id=assessment.institution_id, year=assessment.year).first()


def ranked_in_district(year: int, district_id: int) -> int:
    """How many institutions of the district have a result that year: the "y" of "区内排名 x/y"."""
    return Result.objects.filter(year=year, district_id=district_id).count()


def finance_objections(user):
    """Objections of the institutions in the user's finance-center districts."""
    from .models import Objection

    return access.scope_queryset(Objection.objects.all(), user, "assessment__institution", roles=("finance_center",))


def district_objections(district_year, status: str = ""):
    from .models import Objection, ObjectionStatus

    qs = (Objection.objects.filter(assessment__year=district_year.year,
                                   assessment__institution__district_id=district_year.district_id)
          .select_related("assessment__institution", "filed_by", "decided_by").order_by("status", "-filed_at"))
    return qs.filter(status=status) if status in ObjectionStatus.values else qs


YEAR_OVERVIEW_PAGE_SIZE = 100


def year_overview(user, district_year, run_id: str = "", page_number=None,
                  page_size: int = YEAR_OVERVIEW_PAGE_SIZE) -> dict:
    """Everything the finance center's year page shows of one district's year, a page of
    institutions at a time (`page`; a province district has thousands: issue 16)."""
    from django.core.paginator import Paginator

    from .models import AggregationRun, Assessment, Objection

    page = Paginator(Assessment.objects.filter(year=district_year.year,
                                               institution__district_id=district_year.district_id)
                     .select_related("institution").order_by("institution__code"), page_size).get_page(page_number)
    assessments = list(page.object_list)
    sheets = sheets_with_progress([a.pk for a in assessments])
    results = {r.institution_id: r for r in visible_results(user).filter(
        year=district_year.year, district_id=district_year.district_id,
        institution_id__in=[a.institution_id for a in assessments])}
    runs = AggregationRun.objects.filter(year=district_year.year, district_id=district_year.district_id)
    run = runs.filter(pk=run_id).first() if run_id.isdigit() and len(run_id) < 12 else runs.first()
    return {
        "assessments": assessments, "sheets": sheets, "results": results, "run": run,
        "indicators_total": district_year.scheme.indicators.count(),
        "ranked": ranked_in_district(district_year.year, district_year.district_id),
        "pending_objections": Objection.objects.filter(
            assessment__year=district_year.year, assessment__institution__district_id=district_year.district_id,
            status="pending").count(),
        "page": page,
    }


def evidence_for(pk: int):
    from .models import Evidence

    return Evidence.objects.select_related("entry__sheet__assessment").filter(pk=pk).first()


def fillable_sources_by_assessment(user, assessments) -> dict[int, list[str]]:
    """`services.fillable_sources` for a list of assessments at once (one assignment query in all,
    not one per row: issue 16, /scoring/ at province scale). The same rule: the district's finance
    center every sheet; the institution's filer or head its self-assessment; a reviewer the sources
    assigned to them while they hold the role in the institution's district."""
    assessments = list(assessments)
    own = access.member_institution_ids(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD)
    reviewer_roles = {Source.INSPECTION: Role.INSPECTOR, Source.THIRD_PARTY: Role.THIRD_PARTY}
    reviewing = {source: access.district_ids(user, role) for source, role in reviewer_roles.items()}
    assigned: dict[tuple[int, int], set[str]] = {}
    if any(ids is None or ids for ids in reviewing.values()) and assessments:
        rows = Assignment.objects.filter(
            user=user, source__in=list(reviewer_roles),
            institution_id__in={a.institution_id for a in assessments},
            year__in={a.year for a in assessments}).values_list("institution_id", "year", "source")
        for institution_id, year, source in rows:
            assigned.setdefault((institution_id, year), set()).add(source)
    out = {}
    for assessment in assessments:
        district_id = assessment.institution.district_id
        if access.is_finance_center(user, district_id):
            out[assessment.pk] = list(Source.values)
            continue
        sources = [Source.SELF] if assessment.institution_id in own else []
        mine = assigned.get((assessment.institution_id, assessment.year), set())
        sources += [s for s in (Source.INSPECTION, Source.THIRD_PARTY)
                    if s in mine and (reviewing[s] is None or district_id in reviewing[s])]
        out[assessment.pk] = sources
    return out


def letters_of(district_id: int, year: int):
    """The district-year's letters (结果运用函), one per use, with their dispatch counts."""
    from .models import LinkageLetter

    return (LinkageLetter.objects.filter(district_id=district_id, year=year).select_related("district")
            .annotate(dispatch_count=Count("dispatches")).order_by("serial"))


def letter_dispatches(district_id: int, year: int, limit: int = 50):
    from .models import LetterDispatch

    return (LetterDispatch.objects.filter(letter__district_id=district_id, letter__year=year)
            .select_related("by", "letter")[:limit])


def city_weights(city) -> dict:
    """A city's index weights (CityIndexWeights, edited on /scoring/city/), docs/city-index.md's
    defaults without a row: {"score", "colour", "red_line", "complaints"} → Decimal."""
    from . import rules
    from .models import CityIndexWeights

    row = CityIndexWeights.objects.filter(city=city).first()
    return row.as_dict() if row else dict(rules.DEFAULT_CITY_WEIGHTS)


def city_exchange_rows(city, year: int, weights) -> list[dict]:
    """The city's districts for one year, ranked by the index with the city's weights: each district's
    own published results in this installation, else the package imported from its installation (a
    district with neither has no index). Aggregates only: no institution appears."""
    from decimal import Decimal

    from django.db.models import Sum

    from institutions.models import District

    from . import rules
    from .models import CityPackage, Result, ResultStatus

    districts = list(District.objects.filter(parent=city).order_by("code"))
    local = {}
    for row in (Result.objects.filter(district__in=districts, year=year, status=ResultStatus.PUBLISHED)
                .values("district_id").annotate(n=Count("id"), total_sum=Sum("total"),
                                                red_lines=Count("id", filter=Q(red_line=True)),
                                                substantiated=Sum("complaints_substantiated"),
                                                partially=Sum("complaints_partial"),
                                                **{c: Count("id", filter=Q(colour=c)) for c in rules.COLOURS})):
        local[row["district_id"]] = row
    imported = {p.district_id: p for p in CityPackage.objects.filter(district__in=districts, year=year)}
    rows = []
    for district in districts:
        if district.pk in local:
            r = local[district.pk]
            figures = (r["n"], r["total_sum"], {c: r[c] for c in rules.COLOURS}, r["red_lines"],
                       r["substantiated"] or 0, r["partially"] or 0)
            source = "local"
        elif district.pk in imported:
            p = imported[district.pk]
            figures = (p.institutions, p.total_sum, p.colours, p.red_lines, p.substantiated, p.partially)
            source = "imported"
        else:
            rows.append({"district": district, "source": "", "index": None, "institutions": 0})
            continue
        computed = rules.city_index(*figures, weights=weights)
        rows.append({"district": district, "source": source, "institutions": figures[0], "colours": figures[2],
                     "red_lines": figures[3], "package": imported.get(district.pk), **(computed or {})})
    ranks = rules.competition_ranks([(False, r["index"] if r["index"] is not None else Decimal(-1)) for r in rows])
    for row, rank in zip(rows, ranks, strict=True):
        row["rank"] = rank if row["index"] is not None else None
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["district"].code))
    return rows
