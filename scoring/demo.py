"""Demo clean-points years for the demo district: 2025 published, 2026 scored (all four colours).

The filing flow stays demonstrable: the first bank's (LQ-B01) 2026 self-assessment is left as a
draft for the demo `filer` and `head` to finish, so its 2026 result is provisional.
"""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.tabular import read_path
from institutions.demo import LUQIAO, demo_institutions
from institutions.models import District, Institution

from . import services
from .models import (
    AggregationRun,
    Assessment,
    AssessmentState,
    Assignment,
    DistrictYear,
    Indicator,
    IndicatorKind,
    Result,
    ResultStatus,
    Scheme,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
    Source,
    YearStatus,
)

DATA = Path(__file__).resolve().parent / "data"
DEMO_FILER_CODE = "LQ-B01"


def _ensure_scheme(year: int) -> Scheme:
    """The installation's template scheme for the year (路桥区 has none of its own)."""
    scheme = Scheme.objects.filter(year=year, district__isnull=True).first()
    if scheme is None:
        report = services.import_scheme(
            year, read_path(DATA / "norms-2026-demo.csv", services.NORMS_COLUMNS),
            read_path(DATA / "indicators-2026-demo.csv", services.INDICATOR_COLUMNS), activate=True)
        if not report.ok:
            raise RuntimeError("; ".join(map(str, report.problems)))
        scheme = Scheme.objects.get(year=year, district__isnull=True)
        # Two clauses ask for documents: the demo shows the evidence rule at work.
        scheme.indicators.filter(code__in=["B1.1", "B8.1"]).update(requires_evidence=True)
        scheme.self_due_date = timezone.datetime(year + 1, 1, 31).date()
        scheme.review_due_date = timezone.datetime(year + 1, 2, 28).date()
        scheme.save()
    return scheme


def _quality(index: int, rng: random.Random) -> tuple[Decimal, bool]:
    """A spread that gives every colour: ~35% green, 30% blue, 20% yellow, 10% red, a few red lines."""
    band = index % 20
    if band < 7:
        low, high = 0.91, 0.99
    elif band < 13:
        low, high = 0.81, 0.89
    elif band < 17:
        low, high = 0.71, 0.79
    else:
        low, high = 0.55, 0.68
    red_line = index % 29 == 11
    return Decimal(str(rng.uniform(low, high))), red_line


def _points(max_points: Decimal, quality: Decimal, rng: random.Random) -> Decimal:
    value = max_points * (quality + Decimal(str(rng.uniform(-0.05, 0.05))))
    value = min(max(value, Decimal(0)), max_points)
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@transaction.atomic
def _seed_year(scheme: Scheme, *, leave_self_draft: str | None) -> int:
    """Sheets for every demo institution that has no assessment for the year yet."""
    rng = random.Random(scheme.year)
    indicators = list(scheme.indicators.all())
    codes = [d.code for d in demo_institutions()]
    institutions = {i.code: i for i in Institution.objects.filter(code__in=codes)}
    existing = set(Assessment.objects.filter(year=scheme.year).values_list("institution__code", flat=True))
    entries, created = [], 0
    now = timezone.now()
    for index, code in enumerate(codes):
        if code in existing:
            continue
        quality, red_line = _quality(index, rng)
        draft_self = code == leave_self_draft
        assessment = Assessment.objects.create(
            institution=institutions[code], year=scheme.year, scheme=scheme,
            state=AssessmentState.IN_REVIEW if draft_self else AssessmentState.SCORED)
        for source in Source.values:
            submitted = not (draft_self and source == Source.SELF)
            sheet = ScoreSheet.objects.create(assessment=assessment, source=source,
                                              status=SheetStatus.SUBMITTED if submitted else SheetStatus.DRAFT,
                                              submitted_at=now if submitted else None)
            for n, indicator in enumerate(indicators):
                if draft_self and source == Source.SELF and n % 2:
                    continue  # half filled: the demo filer has work left
                if indicator.kind == IndicatorKind.RED_LINE:
                    hit = red_line and source == Source.INSPECTION and indicator.code == "R2"
                    entries.append(SheetEntry(sheet=sheet, indicator=indicator, hit=hit))
                elif indicator.kind == IndicatorKind.BONUS:
                    if source == Source.THIRD_PARTY or rng.random() < 0.5:
                        continue
                    entries.append(SheetEntry(sheet=sheet, indicator=indicator,
                                              points=_points(indicator.max_points, quality, rng)))
                else:
                    entries.append(SheetEntry(sheet=sheet, indicator=indicator,
                                              points=_points(indicator.max_points, quality, rng)))
        created += 1
    SheetEntry.objects.bulk_create(entries)
    return created


def _assign_reviewers(year: int) -> None:
    User = get_user_model()
    pairs = [("inspector", Source.INSPECTION), ("thirdparty", Source.THIRD_PARTY)]
    institutions = list(Institution.objects.filter(code__in=[d.code for d in demo_institutions()]))
    for username, source in pairs:
        user, _ = User.objects.get_or_create(username=username)
        Assignment.objects.bulk_create(
            [Assignment(user=user, institution=i, year=year, source=source) for i in institutions],
            ignore_conflicts=True)


def _aggregate(year: int) -> None:
    luqiao = District.objects.get(code=LUQIAO)
    services.district_year(luqiao, year)
    run = AggregationRun.objects.create(year=year, district=luqiao)
    services.execute_run(run.pk)


def seed_scoring() -> str:
    scheme_2025 = _ensure_scheme(2025)
    scheme_2026 = _ensure_scheme(2026)
    new_2025 = _seed_year(scheme_2025, leave_self_draft=None)
    new_2026 = _seed_year(scheme_2026, leave_self_draft=DEMO_FILER_CODE)
    _assign_reviewers(2026)
    if new_2025:
        _aggregate(2025)
        luqiao = District.objects.get(code=LUQIAO)
        DistrictYear.objects.filter(district=luqiao, year=2025).update(status=YearStatus.PUBLISHED,
                                                                       published_at=timezone.now())
        Result.objects.filter(year=2025, district=luqiao).update(status=ResultStatus.PUBLISHED)
        Assessment.objects.filter(year=2025, institution__district=luqiao).update(state=AssessmentState.PUBLISHED)
        services.generate_letters(luqiao.pk, 2025)  # the three letters (结果运用函) of the published year
    if new_2026:
        _aggregate(2026)
    colours = dict(services.colour_counts(2026, District.objects.get(code=LUQIAO)))
    scored = Result.objects.filter(year=2026, district__code=LUQIAO).count()
    return (f"清廉积分（路桥区）：2025 年度已发布，2026 年度 {scored} 家有结果"
            f"（绿 {colours['green']}、蓝 {colours['blue']}、黄 {colours['yellow']}、红 {colours['red']}）；"
            f"指标 {Indicator.objects.filter(scheme=scheme_2026).count()} 项")

