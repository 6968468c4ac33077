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
from institutions.demo import demo_institutions
from institutions.models import Institution

from . import services
from .models import (
    AggregationRun,
    Assessment,
    AssessmentState,
    Assignment,
    Indicator,
    IndicatorKind,
    Result,
    ResultStatus,
    Scheme,
    SchemeStatus,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
    Source,
)

DATA = Path(__file__).resolve().parent / "data"
DEMO_FILER_CODE = "LQ-B01"


def _ensure_scheme(year: int) -> Scheme:
    scheme = Scheme.objects.filter(year=year).first()
    if scheme is None:
        report = services.import_scheme(
            year, read_path(DATA / "norms-2026-demo.csv", services.NORMS_COLUMNS),
            read_path(DATA / "indicators-2026-demo.csv", services.INDICATOR_COLUMNS), activate=True)
        if not report.ok:
            raise RuntimeError("; ".join(map(str, report.problems)))
        scheme = Scheme.objects.get(year=year)
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
    run = AggregationRun.objects.create(year=year)
    services.execute_run(run.pk)


def seed_scoring() -> str:
    scheme_2025 = _ensure_scheme(2025)
    scheme_2026 = _ensure_scheme(2026)
    new_2025 = _seed_year(scheme_2025, leave_self_draft=None)
    new_2026 = _seed_year(scheme_2026, leave_self_draft=DEMO_FILER_CODE)
    _assign_reviewers(2026)
    if new_2025:
        _aggregate(2025)
        Scheme.objects.filter(pk=scheme_2025.pk).update(status=SchemeStatus.PUBLISHED, published_at=timezone.now())
        Result.objects.filter(year=2025).update(status=ResultStatus.PUBLISHED)
        Assessment.objects.filter(year=2025).update(state=AssessmentState.PUBLISHED)
    if new_2026:
        _aggregate(2026)
    colours = dict(services.colour_counts(2026))
    return (f"清廉积分：2025 年度已发布，2026 年度 {Result.objects.filter(year=2026).count()} 家有结果"
            f"（绿 {colours['green']}、蓝 {colours['blue']}、黄 {colours['yellow']}、红 {colours['red']}）；"
            f"指标 {Indicator.objects.filter(scheme=scheme_2026).count()} 项")


VIOLATIONS = [
    ("V01", "违规收受客户礼品礼金", "discipline", "10", False),
    ("V02", "违反“五要有、六公开、九严禁”办理信贷业务", "compliance", "5", False),
    ("V03", "未按规定参加廉洁教育", "publicity", "2", False),
    ("V04", "会计检辅发现违规操作", "staff_management", "3", False),
    ("V05", "重点工作推进不力被通报", "key_tasks", "2", False),
    ("V06", "清廉建设台账缺失", "clean_building", "2", False),
    ("R01", "违法犯罪被追究刑事责任", "red_line", "40", True),
    ("R02", "酒后驾驶机动车被查处", "red_line", "30", True),
]


def seed_employee_points() -> str:
    """The district catalogue and a year of records: the demo employee has points in several modules."""
    from institutions.models import Employee

    from . import employee_points
    from .models import PointRecord, RecordKind, ViolationType

    for code, name, module, points, red in VIOLATIONS:
        ViolationType.objects.get_or_create(institution=None, code=code, defaults={
            "name": name, "module": module, "points": Decimal(points), "is_red_line": red})
    year = timezone.localdate().year
    if PointRecord.objects.filter(date__year=year).exists():
        return "员工清廉积分：已有记录，跳过"
    User = get_user_model()
    finance = User.objects.filter(username="finance").first()
    rng = random.Random(year)
    employees = list(Employee.objects.filter(institution__code__startswith="LQ-").select_related("institution")
                     .order_by("institution__code", "employee_no"))
    demo_employee = next((e for e in employees if e.user_id and e.user.username == "employee"), None)
    records = 0
    start = timezone.datetime(year, 1, 5).date()
    span = max((timezone.localdate() - start).days, 1)
    for index, employee in enumerate(employees):
        picks = 3 if employee is demo_employee else (1 if rng.random() < 0.3 else 0)
        for n in range(picks):
            code = ("V02", "V03", "V04")[n] if employee is demo_employee else rng.choice(("V01", "V02", "V03",
                                                                                          "V04", "V05", "V06"))
            day = start + timezone.timedelta(days=rng.randrange(span))
            employee_points.record_points(finance, employee, employee_points.RecordInput(
                date=day, kind=RecordKind.DEDUCTION, violation_code=code, source="accounting_check"))
            records += 1
        if employee is demo_employee or rng.random() < 0.15:
            employee_points.record_points(finance, employee, employee_points.RecordInput(
                date=start, kind=RecordKind.COMMENDATION, module="publicity", points=Decimal("3"),
                note="廉洁征文获奖"))
            records += 1
        if index in (37, 412):  # two red-line cases: one to confirm in the demo, one already confirmed
            record = employee_points.record_points(finance, employee, employee_points.RecordInput(
                date=start + timezone.timedelta(days=30), kind=RecordKind.DEDUCTION, violation_code="R02",
                source="external", note="公安机关通报"))
            records += 1
            if index == 412:
                employee_points.decide_blacklist(finance, record.blacklist_entry, True, "经核实属实")
    return f"员工清廉积分：违规细则 {len(VIOLATIONS)} 项，{year} 年记录 {records} 条"
