"""Factories and builders for scoring tests: schemes, assessments, sheets and entries through the ORM.

`build_scheme` makes a whole year (norms, clauses, scheme, indicators) in a few lines, with the
worked example of SCORING.md as its default; `fill_sheet` writes one source's entries (and submits
the sheet unless told otherwise) without going through the API, for tests that are about reading,
aggregating or permissions rather than about filing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

import factory
from django.utils import timezone

from scoring.models import (
    Assessment,
    Assignment,
    DistrictYear,
    Indicator,
    NormClause,
    NormItem,
    Norms,
    Scheme,
    ScoreSheet,
    SheetEntry,
)

D = Decimal

# (code, kind, clause number or None, max_points or None): the worked example of SCORING.md.
WORKED_INDICATORS: tuple[tuple[str, str, str | None, Decimal | None], ...] = (
    ("B1", "basic", "1.1", D("40")),
    ("B2", "basic", "1.2", D("40")),
    ("B3", "basic", "2.1", D("20")),
    ("X1", "bonus", None, D("6")),
    ("X2", "bonus", None, D("6")),
    ("R1", "red_line", None, None),
)

# source -> {indicator code -> value} of the worked example.
WORKED_SHEETS: dict[str, dict[str, Decimal | bool]] = {
    "self": {"B1": D("40"), "B2": D("38"), "B3": D("20"), "X1": D("6"), "X2": D("6"), "R1": False},
    "inspection": {"B1": D("36"), "B2": D("30"), "B3": D("18"), "X1": D("6"), "X2": D("5"), "R1": False},
    "third_party": {"B1": D("38"), "B2": D("34"), "B3": D("16"), "R1": False},
}


class NormsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Norms
        django_get_or_create = ("year",)

    year = factory.Sequence(lambda n: 2040 + n)
    title = factory.LazyAttribute(lambda o: f"{o.year} 年度测试规范")


class NormItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NormItem

    norms = factory.SubFactory(NormsFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"规范项{n}")


class NormClauseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NormClause

    item = factory.SubFactory(NormItemFactory)
    norms = factory.SelfAttribute("item.norms")
    number = factory.Sequence(lambda n: f"9.{n}")
    title = factory.Sequence(lambda n: f"条款{n}")


class SchemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Scheme

    norms = factory.SubFactory(NormsFactory)
    year = factory.SelfAttribute("norms.year")
    status = Scheme.Status.ACTIVE


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    scheme = factory.SubFactory(SchemeFactory)
    code = factory.Sequence(lambda n: f"I{n}")
    kind = "basic"
    max_points = D("10")
    title = factory.LazyAttribute(lambda o: f"指标 {o.code}")


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment
        django_get_or_create = ("institution", "year")

    scheme = factory.SubFactory(SchemeFactory)
    year = factory.SelfAttribute("scheme.year")
    institution = factory.SubFactory("tests.factories.InstitutionFactory")


def set_year_status(year: int, status: str, district_code: str = "331004") -> DistrictYear:
    """Put a district's year in `status` (open, notice, published) straight in the database."""
    from institutions.models import District
    from scoring import services

    district_year = services.district_year(District.objects.get(code=district_code), year)
    district_year.status = status
    district_year.save(update_fields=["status"])
    return district_year


def build_scheme(year: int, indicators: Iterable[tuple[str, str, str | None, Decimal | None]] = WORKED_INDICATORS,
                 *, status: str = Scheme.Status.ACTIVE, district=None, **params) -> Scheme:
    """A year's norms, clauses, scheme and indicators: the installation's template (or `district`'s own).
    `params` set scheme fields (weights, caps, bands). `status` "notice" or "published" puts 路桥区's
    year in that state (the scheme itself is active)."""
    year_status = status if status in ("notice", "published") else None
    status = Scheme.Status.ACTIVE if year_status else status
    norms = Norms.objects.create(year=year, district=district, title=f"{year} 年度测试规范")
    items: dict[int, NormItem] = {}
    clauses: dict[str, NormClause] = {}
    indicators = list(indicators)
    for position, (_code, _kind, clause_no, _max) in enumerate(indicators):
        if clause_no and clause_no not in clauses:
            item_no = int(clause_no.split(".")[0])
            if item_no not in items:
                items[item_no] = NormItem.objects.create(norms=norms, number=item_no, title=f"测试项目{item_no}")
            clauses[clause_no] = NormClause.objects.create(norms=norms, item=items[item_no], number=clause_no,
                                                           title=f"测试条款{clause_no}", position=position)
    scheme = Scheme.objects.create(year=year, norms=norms, status=status, district=district, **params)
    Indicator.objects.bulk_create([
        Indicator(scheme=scheme, code=code, kind=kind, clause=clauses.get(clause_no or ""), max_points=max_points,
                  title=f"测试指标{code}", position=position)
        for position, (code, kind, clause_no, max_points) in enumerate(indicators)
    ])
    if year_status:
        set_year_status(year, year_status, district.code if district else "331004")
    return scheme


def assessment_for(institution, scheme: Scheme, state: str = Assessment.State.NOT_STARTED) -> Assessment:
    assessment, _ = Assessment.objects.get_or_create(institution=institution, year=scheme.year,
                                                     defaults={"scheme": scheme, "state": state})
    return assessment


def fill_sheet(assessment: Assessment, source: str, values: Mapping[str, Decimal | bool], *,
               submit: bool = True) -> ScoreSheet:
    """Write one source's entries (code -> points or hit) straight to the database; submitted or draft."""
    sheet, _ = ScoreSheet.objects.get_or_create(assessment=assessment, source=source)
    by_code = {i.code: i for i in Indicator.objects.filter(scheme_id=assessment.scheme_id)}
    for code, value in values.items():
        is_hit = isinstance(value, bool)
        SheetEntry.objects.update_or_create(
            sheet=sheet, indicator=by_code[code],
            defaults={"points": None if is_hit else value, "hit": value if is_hit else None})
    if submit:
        sheet.status, sheet.submitted_at = ScoreSheet.Status.SUBMITTED, timezone.now()
    else:
        sheet.status, sheet.submitted_at = ScoreSheet.Status.DRAFT, None
    sheet.save()
    return sheet


def assign(user, institution, year: int, source: str) -> Assignment:
    return Assignment.objects.create(user=user, institution=institution, year=year, source=source)


def luqiao():
    """路桥区 (331004), where the tests' institutions are by default."""
    from institutions.models import District

    return District.objects.get(code="331004")
