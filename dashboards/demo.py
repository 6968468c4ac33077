"""Demo data for the dashboards: a second district for the city roll-up, and last year's activity.

- `seed_second_district()`: 椒江区 (331002) with 20 fictional institutions (names marked 演示), their
  employees, scored 2025 and 2026 years (sheets written like scoring.demo, aggregated through the
  scoring services; 2025, already published, is reopened with a logged reason, aggregated, put on
  notice and published again), a few complaints and a year of questionnaire answers.
- `seed_history()`: Luqiao's 2025 questionnaire answers and staff violation records, so that the
  year-on-year figures (satisfaction in points, violations in percent) have a base.

Both are deterministic and idempotent (they add only what is missing) and return a one-line summary.
They run after the registry, users, scoring, complaints and warnings demo seeders.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from institutions.models import District, Employee, Institution, Role
from institutions.usc import make_usc_code
from scoring.models import (
    AggregationRun,
    Assessment,
    AssessmentState,
    IndicatorKind,
    Scheme,
    ScoreSheet,
    SheetEntry,
    SheetStatus,
    Source,
)

JIAOJIANG = "331002"
YEARS = (2025, 2026)
INSTITUTIONS = [
    ("JJ-B01", "椒江演示农村商业银行", "演示椒江农商行", "bank", True),
    ("JJ-B02", "演示工商银行椒江支行", "演示椒江工行", "bank", False),
    ("JJ-B03", "演示农业银行椒江支行", "演示椒江农行", "bank", False),
    ("JJ-B04", "演示中国银行椒江支行", "演示椒江中行", "bank", False),
    ("JJ-B05", "演示建设银行椒江支行", "演示椒江建行", "bank", False),
    ("JJ-B06", "演示台州银行椒江支行", "演示椒江台行", "bank", False),
    ("JJ-B07", "演示泰隆银行椒江支行", "演示椒江泰隆", "bank", False),
    ("JJ-B08", "演示邮储银行椒江支行", "演示椒江邮储", "bank", False),
    ("JJ-I01", "演示人寿保险椒江支公司", "演示椒江人寿", "insurance", False),
    ("JJ-I02", "演示财产保险椒江支公司", "演示椒江财险", "insurance", False),
    ("JJ-I03", "演示平安人寿椒江支公司", "演示椒江平安", "insurance", False),
    ("JJ-I04", "演示太平洋财险椒江支公司", "演示椒江太保", "insurance", False),
    ("JJ-I05", "演示新华人寿椒江支公司", "演示椒江新华", "insurance", False),
    ("JJ-I06", "演示泰康人寿椒江支公司", "演示椒江泰康", "insurance", False),
    ("JJ-S01", "演示财通证券椒江营业部", "演示椒江财通", "securities", False),
    ("JJ-S02", "演示浙商证券椒江营业部", "演示椒江浙商", "securities", False),
    ("JJ-S03", "演示华泰证券椒江营业部", "演示椒江华泰", "securities", False),
    ("JJ-P01", "椒江演示小额贷款公司", "演示椒江小贷", "private_lending", False),
    ("JJ-P02", "椒江演示融资担保公司", "演示椒江担保", "private_lending", False),
    ("JJ-P03", "椒江演示典当行", "演示椒江典当", "private_lending", False),
]
EMPLOYEES_PER_INSTITUTION = 8
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def _finance_user():
    """`finance2`, the finance center of 椒江区 (created by the registry's demo users)."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username="finance2", defaults={"is_staff": True})
    if created:
        from institutions.services import grant_role

        grant_role(user, Role.FINANCE_CENTER, District.objects.get(code=JIAOJIANG))
    return user


@transaction.atomic
def _registry() -> list[Institution]:
    district = District.objects.get(code=JIAOJIANG)
    rng = random.Random(331002)
    out = []
    for index, (code, name, short, category, local) in enumerate(INSTITUTIONS, 1):
        institution, _ = Institution.objects.update_or_create(code=code, defaults={
            "name": name, "short_name": short, "category": category, "district": district,
            "usc_code": make_usc_code(f"91{JIAOJIANG}MA{index:07d}"[:17]), "is_local_corporate": local,
            "is_active": True, "address": f"台州市椒江区演示大道{index}号"})
        have = set(institution.employees.values_list("employee_no", flat=True))
        Employee.objects.bulk_create([
            Employee(institution=institution, employee_no=f"E{n:03d}",
                     name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
            for n in range(1, EMPLOYEES_PER_INSTITUTION + 1) if f"E{n:03d}" not in have])
        out.append(institution)
    return out


def _points(maximum: Decimal, quality: float, rng: random.Random) -> Decimal:
    value = maximum * Decimal(str(min(max(quality + rng.uniform(-0.06, 0.06), 0.0), 1.0)))
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@transaction.atomic
def _sheets(scheme: Scheme, institutions: list[Institution]) -> int:
    """Three submitted sheets for each institution without an assessment this year (like scoring.demo)."""
    rng = random.Random(scheme.year * 7)
    indicators = list(scheme.indicators.all())
    existing = set(Assessment.objects.filter(year=scheme.year, institution__in=institutions)
                   .values_list("institution_id", flat=True))
    now, entries, created = timezone.now(), [], 0
    for index, institution in enumerate(institutions):
        if institution.pk in existing:
            continue
        # Jiaojiang runs a little behind Luqiao in the demo, and improves from 2025 to 2026.
        quality = 0.70 + 0.25 * ((index * 7) % 20) / 19 + (0.03 if scheme.year == 2026 else 0.0)
        red_line = index == 13
        assessment = Assessment.objects.create(institution=institution, year=scheme.year, scheme=scheme,
                                               state=AssessmentState.IN_REVIEW)
        for source in Source.values:
            sheet = ScoreSheet.objects.create(assessment=assessment, source=source, status=SheetStatus.SUBMITTED,
                                              submitted_at=now)
            for indicator in indicators:
                if indicator.kind == IndicatorKind.RED_LINE:
                    entries.append(SheetEntry(sheet=sheet, indicator=indicator,
                                              hit=red_line and source == Source.INSPECTION and indicator.code == "R1"))
                elif indicator.kind == IndicatorKind.BONUS:
                    if source == Source.INSPECTION and rng.random() < 0.4:
                        entries.append(SheetEntry(sheet=sheet, indicator=indicator,
                                                  points=_points(indicator.max_points, quality, rng)))
                else:
                    entries.append(SheetEntry(sheet=sheet, indicator=indicator,
                                              points=_points(indicator.max_points, quality, rng)))
        created += 1
    SheetEntry.objects.bulk_create(entries)
    return created


def _aggregate(scheme: Scheme) -> None:
    """Through the scoring services, as 椒江区's own finance center: its own year, aggregated, and
    (2025) put on notice and published; 路桥区 is never touched."""
    from scoring import services

    actor = _finance_user()
    district = District.objects.get(code=JIAOJIANG)
    year = services.district_year(district, scheme.year)
    if year.status != "open":
        return
    run = AggregationRun.objects.create(year=scheme.year, district=district, created_by=actor)
    services.execute_run(run.pk)
    if scheme.year < timezone.localdate().year:
        year = services.open_notice(year, actor)
        services.publish_year(year, actor)


def _complaints(institutions: list[Institution]) -> int:
    from complaints import services
    from complaints.models import Complaint

    by_code = {i.code: i for i in institutions}
    cases = [("jj-demo-01", "JJ-B02", "complaint", 80, "办理贷款被要求购买保险产品。", "substantiated"),
             ("jj-demo-02", "JJ-I03", "report", 60, "业务员收取客户“茶水费”。", "unsubstantiated"),
             ("jj-demo-03", "JJ-B06", "suggestion", 30, "建议增加周末营业网点。", ""),
             ("jj-demo-04", "JJ-P01", "complaint", 15, "催收时言语不文明。", "")]
    actor, created = _finance_user(), 0
    today = timezone.localdate()
    for token, code, kind, days_ago, text, outcome in cases:
        try:
            receipt = services.submit(services.Submission(institution=by_code[code], kind=kind, description=text,
                                                          channel=Complaint.Channel.STAFF, submission_token=token))
        except services.DuplicateSubmission:  # seeded before
            continue
        case = receipt.complaint
        services.backdate(case, today - dt.timedelta(days=days_ago))
        if outcome:
            for action, data in (("accept", {}), ("verify", {}), ("conclude", {"outcome": outcome})):
                services.perform_action(case.pk, action, actor, services.ActionInput(**data))
        created += 1
    return created


def _survey(institutions: list[Institution], year: int, *, base: int, months: range) -> int:
    """Questionnaire answers for a year: `base` of every 10 answers satisfied, a little better each month."""
    from complaints.models import SurveyResponse
    from complaints.services import ensure_questionnaire, rebuild_satisfaction_tallies

    if SurveyResponse.objects.filter(institution__in=institutions, submitted_at__year=year).exists():
        return 0
    questionnaire = ensure_questionnaire(year)
    rows = []
    for index, institution in enumerate(institutions):
        for month in months:
            for n in range(10):
                satisfied = (n + index + month) % 10 < base + (1 if month > 6 else 0)
                rows.append(SurveyResponse(
                    questionnaire=questionnaire, institution=institution, answers={},
                    mean_rating=Decimal("4.5") if satisfied else Decimal("3.0"), satisfied=satisfied,
                    submitted_at=timezone.make_aware(dt.datetime(year, month, 12 + n % 10, 11))))
    SurveyResponse.objects.bulk_create(rows, batch_size=2000)
    # bulk_create bypasses submit_survey: count these answers into the monthly tallies.
    rebuild_satisfaction_tallies([i.pk for i in institutions])
    return len(rows)


def _own_scheme(template: Scheme) -> Scheme:
    """椒江区 runs its latest demo year on a scheme of its own, cloned from the installation's template."""
    from scoring import services

    district = District.objects.get(code=JIAOJIANG)
    own = Scheme.objects.filter(year=template.year, district=district).first()
    if own is None:
        own = services.clone_scheme(template, template.year, _finance_user(), district=district)
        own.self_due_date, own.review_due_date = template.self_due_date, template.review_due_date
        own.save(update_fields=["self_due_date", "review_due_date"])
        services.activate_scheme(own, _finance_user())
    return own


def seed_second_district() -> str:
    """椒江区 with 20 demo institutions, scored 2025 (published) and 2026; returns the summary line."""
    institutions = _registry()
    years = []
    for year in YEARS:
        scheme = Scheme.objects.filter(year=year, district__isnull=True).first()
        if scheme is None:
            continue
        if year == max(YEARS):
            scheme = _own_scheme(scheme)
        if _sheets(scheme, institutions):
            _aggregate(scheme)
        years.append(str(year))
    complaints = _complaints(institutions)
    today = timezone.localdate()
    answers = _survey(institutions, today.year, base=8, months=range(1, today.month + 1))
    answers += _survey(institutions, today.year - 1, base=7, months=range(1, 13))
    return (f"第二个演示区县：椒江区 {len(institutions)} 家机构，{'、'.join(years) or '无'} 年度有结果；"
            f"新增演示案件 {complaints} 件、问卷答复 {answers} 份")


def seed_history() -> str:
    """Luqiao's last-year questionnaire answers and staff violations: the base of the year-on-year figures."""
    from staff_points import services as staff_points
    from staff_points.models import PointRecord, RecordKind

    luqiao = list(Institution.objects.filter(district__code="331004", code__startswith="LQ-").order_by("code"))
    if not luqiao:
        return "看板历史数据：无路桥演示机构，跳过"
    last_year = timezone.localdate().year - 1
    answers = _survey(luqiao, last_year, base=6, months=range(1, 13))
    records = 0
    if not PointRecord.objects.filter(employee__institution__in=luqiao, date__year=last_year).exists():
        actor = get_user_model().objects.get(username="finance")  # 路桥区's finance center records its staff
        rng = random.Random(last_year)
        employees = list(Employee.objects.filter(institution__in=luqiao).order_by("institution__code", "employee_no"))
        for employee in employees:
            if rng.random() < 0.38:
                day = dt.date(last_year, 1, 5) + dt.timedelta(days=rng.randrange(350))
                staff_points.record_points(actor, employee, staff_points.RecordInput(
                    date=day, kind=RecordKind.DEDUCTION, source="accounting_check",
                    violation_code=rng.choice(("V01", "V02", "V03", "V04", "V05", "V06"))))
                records += 1
    return f"看板历史数据：路桥区 {last_year} 年问卷答复 {answers} 份、员工违规记录 {records} 条"
