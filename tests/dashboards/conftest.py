"""A small fixed data set whose every dashboard figure is computed by hand in the tests.

Luqiao (331004), year 2024 (2023 for the year-on-year figures); one institution in Jiaojiang
(331002) that no Luqiao figure may count, and one 2023-12-31 late-evening complaint that belongs to 2023.
Each district is aggregated on its own (ranks within the district). Luqiao's 2024 is put on notice and
published through the scoring services (2023 is published too); Jiaojiang's 2024 stays open, so its
results are its finance center's only. Users: `finance` is granted Luqiao, `finance_jj` Jiaojiang,
`finance_both` both; `city_user` the city (3310); heads and a filer of their institutions.

| inst | category  | 2024 sheets (submitted)                      | complaints 2024     | 2024 total   | 2023  |
|------|-----------|----------------------------------------------|---------------------|--------------|-------|
| A    | bank      | inspection B1 36, B2 34, B3 18, X1 6         | 1 substantiated     | 93.00 green  | 90.00 |
| B    | bank      | inspection B1 30, B2 30, B3 15               | 1 partial, 1 not    | 74.50 yellow | 80.00 |
| C    | insurance | self 40/40/20 (w .2), inspection 38/40/10    | —                   | 91.43 green  | —     |
| D    | insurance | inspection 40/40/20, R1 hit                  | —                   | 100.00 red   | —     |
| E    | bank 椒江  | inspection 10/10/10                          | —                   | 30.00 red    | —     |
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from complaints import tallies
from complaints.models import Complaint, Questionnaire, SurveyResponse
from complaints.services import rebuild_satisfaction_tallies
from institutions.models import District, Employee, Institution
from scoring import services as scoring_services
from scoring.models import Result
from staff_points.models import PointRecord, ViolationType
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import assessment_for, build_scheme, fill_sheet, set_year_status
from warnings_feed.models import Delivery, Warning
from warnings_feed.services import rebuild_tallies

YEAR = 2024
PREVIOUS = 2023
SH = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=SH)


def complaint(institution, kind: str, received: dt.datetime, *, status: str = "received", outcome: str = "",
              concluded: dt.datetime | None = None, ratings: tuple = (), merged_into=None) -> Complaint:
    n = next(_seq)
    attitude, efficiency, integrity = [*ratings, None, None, None][:3]
    case = Complaint.objects.create(
        institution=institution, kind=kind, status=status, outcome=outcome, description=f"测试反映 {n}",
        receipt_hash=hashlib.sha256(f"r{n}".encode()).hexdigest(), received_at=received,
        deadline_from=received.astimezone(SH).date(), concluded_at=concluded, merged_into=merged_into,
        rating_attitude=attitude, rating_efficiency=efficiency, rating_integrity=integrity)
    tallies.record(None, tallies.share_of(case))  # counted as the services count what they store
    return case


def responses(questionnaire, institution, when: dt.datetime, satisfied: int, unsatisfied: int) -> None:
    rows = [SurveyResponse(questionnaire=questionnaire, institution=institution, answers={}, mean_rating=D("4.5"),
                           satisfied=True, submitted_at=when) for _ in range(satisfied)]
    rows += [SurveyResponse(questionnaire=questionnaire, institution=institution, answers={}, mean_rating=D("2.0"),
                            satisfied=False, submitted_at=when) for _ in range(unsatisfied)]
    SurveyResponse.objects.bulk_create(rows)


def deduction(employee, vtype, day: dt.date, kind: str = "deduction") -> PointRecord:
    return PointRecord.objects.create(employee=employee, date=day, kind=kind, violation_type=vtype if kind ==
                                      "deduction" else None, module=vtype.module, points=vtype.points)


@dataclass
class Dataset:
    luqiao: District
    jiaojiang: District
    city: District
    a: Institution
    b: Institution
    c: Institution
    d: Institution
    e: Institution
    finance: object
    finance_jj: object
    finance_both: object
    head_a: object
    head_b: object
    city_user: object
    filer_a: object


@pytest.fixture
def reference_data(db) -> None:
    """What migrations load, re-created when an earlier transactional test flushed it. Idempotent."""
    from django.contrib.auth.models import Group

    from institutions.roles import ROLE_NAMES

    city, _ = District.objects.get_or_create(code="3310", defaults={"name": "台州市", "level": "city"})
    for code, name in (("331004", "路桥区"), ("331002", "椒江区")):
        District.objects.get_or_create(code=code, defaults={"name": name, "parent": city})
    for role in ROLE_NAMES:
        Group.objects.get_or_create(name=role)


@pytest.fixture
def dataset(reference_data) -> Dataset:
    luqiao = District.objects.get(code="331004")
    jiaojiang = District.objects.get(code="331002")
    a = InstitutionFactory(code="A", name="甲演示银行", category="bank")
    b = InstitutionFactory(code="B", name="乙演示银行", category="bank")
    c = InstitutionFactory(code="C", name="丙演示保险", category="insurance")
    d = InstitutionFactory(code="D", name="丁演示保险", category="insurance")
    e = InstitutionFactory(code="E", name="椒江演示银行", category="bank", district=jiaojiang)

    # 2024: sheets, then the real aggregation (complaints' deductions included).
    scheme = build_scheme(YEAR)
    fill_sheet(assessment_for(a, scheme), "inspection", {"B1": D("36"), "B2": D("34"), "B3": D("18"),
                                                         "X1": D("6"), "R1": False})
    fill_sheet(assessment_for(b, scheme), "inspection", {"B1": D("30"), "B2": D("30"), "B3": D("15")})
    fill_sheet(assessment_for(c, scheme), "self", {"B1": D("40"), "B2": D("40"), "B3": D("20")})
    fill_sheet(assessment_for(c, scheme), "inspection", {"B1": D("38"), "B2": D("40"), "B3": D("10")})
    fill_sheet(assessment_for(c, scheme), "third_party", {"B1": D("1"), "B2": D("1"), "B3": D("1")}, submit=False)
    fill_sheet(assessment_for(d, scheme), "inspection", {"B1": D("40"), "B2": D("40"), "B3": D("20"), "R1": True})
    fill_sheet(assessment_for(e, scheme), "inspection", {"B1": D("10"), "B2": D("10"), "B3": D("10")})

    # Complaints of 2024 (and the ones that must not count).
    ca = complaint(a, "complaint", at(YEAR, 3, 10), status="concluded", outcome="substantiated",
                   concluded=at(YEAR, 3, 20, 16))
    complaint(b, "report", at(YEAR, 3, 15), status="concluded", outcome="partially_substantiated",
              concluded=at(YEAR, 4, 14, 9))
    complaint(b, "complaint", at(YEAR, 5, 1), status="closed", outcome="unsubstantiated", concluded=at(YEAR, 5, 6))
    complaint(c, "suggestion", at(YEAR, 5, 20), status="accepted")
    complaint(c, "rating", at(YEAR, 6, 1), ratings=(5, 5, 4))
    complaint(d, "rating", at(YEAR, 6, 2), ratings=(3, 4, 4))
    complaint(a, "complaint", at(YEAR, 3, 11), status="merged", merged_into=ca)  # a duplicate: not counted
    complaint(e, "complaint", at(YEAR, 7, 1))  # another district
    complaint(a, "complaint", at(PREVIOUS, 12, 31, 23, 30))  # 2023 in Shanghai, though 2023-12-31 15:30 UTC

    finance = UserFactory(username="dash_finance", roles=["finance_center"], is_staff=True)  # 路桥区
    scoring_services.aggregate_year(YEAR, luqiao)
    scoring_services.aggregate_year(YEAR, jiaojiang)
    luqiao_year = scoring_services.district_year(luqiao, YEAR)
    scoring_services.publish_year(scoring_services.open_notice(luqiao_year, finance, dt.date(YEAR + 1, 1, 5)),
                                  finance)

    # 2023: two results written directly (a published year of an older scheme).
    build_scheme(PREVIOUS)
    set_year_status(PREVIOUS, "published")
    for inst, total, colour, rank in ((a, "90.00", "green", 1), (b, "80.00", "blue", 2)):
        Result.objects.create(institution=inst, year=PREVIOUS, district=luqiao, category=inst.category,
                              basic=D(total), bonus=D(0), deduction=D(0), total=D(total), red_line=False,
                              colour=colour, rank=rank, category_rank=rank, status="published",
                              fiscal_tender="priority", computed_at=timezone.now())

    # Satisfaction: questionnaires (2024: March A 3 of 4, July C 5 of 5; 2023: March B 8 of 10).
    q24 = Questionnaire.objects.create(year=YEAR, title="2024 问卷")
    q23 = Questionnaire.objects.create(year=PREVIOUS, title="2023 问卷")
    responses(q24, a, at(YEAR, 3, 5), 3, 1)
    responses(q24, c, at(YEAR, 7, 8), 5, 0)
    responses(q24, e, at(YEAR, 7, 8), 0, 3)  # another district
    SurveyResponse.objects.create(questionnaire=q24, institution=a, answers={}, mean_rating=None, satisfied=None,
                                  submitted_at=at(YEAR, 3, 6))  # unanswered ratings: not counted
    responses(q23, b, at(PREVIOUS, 3, 5), 8, 2)
    rebuild_satisfaction_tallies()  # the answers above were written directly: count them into the tallies

    # Employees and their deduction records (2024: 7 in Luqiao; 2023: 10).
    vtype = ViolationType.objects.create(code="VT", name="测试违规", module="compliance", points=D("5"))
    a1 = EmployeeFactory(institution=a, name="甲一", employee_no="A1")
    a2 = EmployeeFactory(institution=a, name="甲二", employee_no="A2")
    b1 = EmployeeFactory(institution=b, name="乙一", employee_no="B1")
    d1 = EmployeeFactory(institution=d, name="丁一", employee_no="D1")
    e1 = EmployeeFactory(institution=e, name="椒一", employee_no="E1")
    for day in (dt.date(YEAR, 2, 3), dt.date(YEAR, 2, 4), dt.date(YEAR, 2, 5)):
        deduction(a1, vtype, day)
    for day in (dt.date(YEAR, 4, 1), dt.date(YEAR, 4, 2)):
        deduction(b1, vtype, day)
    for day in (dt.date(YEAR, 4, 3), dt.date(YEAR, 4, 4)):
        deduction(d1, vtype, day)
    deduction(a2, vtype, dt.date(YEAR, 6, 1), kind="commendation")  # a commendation is no violation
    deduction(e1, vtype, dt.date(YEAR, 6, 1))  # another district
    for n in range(10):
        deduction(b1, vtype, dt.date(PREVIOUS, 1, 1 + n))

    # Warnings: one of 2024 delivered to four Luqiao employees (and one in Jiaojiang), one of 2023.
    w24 = Warning.objects.create(title="【测试】黄小明违规收受礼金", body="黄小明收受礼金。", scope="district",
                                 district=luqiao, names=["黄小明"], publish_at=at(YEAR, 4, 1),
                                 fanned_out_at=at(YEAR, 4, 1))
    w23 = Warning.objects.create(title="【测试】旧警示", body="旧。", scope="district", district=luqiao,
                                 publish_at=at(PREVIOUS, 4, 1), fanned_out_at=at(PREVIOUS, 4, 1))
    sent = at(YEAR, 4, 1, 12)
    Delivery.objects.create(warning=w24, employee=a1, institution=a, delivered_at=sent, read_at=sent,
                            acknowledged_at=sent + dt.timedelta(days=1))
    Delivery.objects.create(warning=w24, employee=a2, institution=a, delivered_at=sent, read_at=sent)
    Delivery.objects.create(warning=w24, employee=b1, institution=b, delivered_at=sent, read_at=sent,
                            acknowledged_at=sent + dt.timedelta(days=5))
    Delivery.objects.create(warning=w24, employee=d1, institution=d, delivered_at=sent)
    Delivery.objects.create(warning=w24, employee=e1, institution=e, delivered_at=sent, read_at=sent,
                            acknowledged_at=sent)
    Delivery.objects.create(warning=w23, employee=a1, institution=a, delivered_at=at(PREVIOUS, 4, 1))
    rebuild_tallies()  # deliveries written directly, past the services: count them as the fan-out would

    return Dataset(
        luqiao=luqiao, jiaojiang=jiaojiang, city=District.objects.get(code="3310"), a=a, b=b, c=c, d=d, e=e,
        finance=finance,
        finance_jj=UserFactory(username="dash_finance_jj", roles=["finance_center"], roles__districts=["331002"],
                               is_staff=True),
        finance_both=UserFactory(username="dash_finance_both", roles=["finance_center"],
                                 roles__districts=["331004", "331002"], is_staff=True),
        head_a=institution_user(a, "institution_head", username="head_a"),
        head_b=institution_user(b, "institution_head", username="head_b"),
        city_user=UserFactory(username="dash_city", roles=["city"]),
        filer_a=institution_user(a, "institution_filer", username="filer_a_dash"),
    )


def employees_of(institution) -> list[Employee]:
    return list(Employee.objects.filter(institution=institution))
