"""Demo employees' clean points: the district catalogue of violations and a year of records for the
demo district (LQ-*), the demo `employee` with points in several modules and two red-line cases, one
of them already confirmed on the blacklist."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from institutions.models import Employee

from . import services
from .models import PointRecord, RecordKind, ViolationType

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
ORDINARY_CODES = ("V01", "V02", "V03", "V04", "V05", "V06")
RED_LINE_CASES = {37: False, 412: True}  # employee index -> confirmed already (else left to decide in the demo)


def seed_employee_points() -> str:
    """The district catalogue and a year of records: the demo employee has points in several modules."""
    for code, name, module, points, red in VIOLATIONS:
        ViolationType.objects.get_or_create(institution=None, code=code, defaults={
            "name": name, "module": module, "points": Decimal(points), "is_red_line": red})
    today = timezone.localdate()
    year = today.year
    if PointRecord.objects.filter(date__year=year).exists():
        return "员工清廉积分：已有记录，跳过"
    finance = get_user_model().objects.filter(username="finance").first()
    rng = random.Random(year)
    employees = list(Employee.objects.filter(institution__code__startswith="LQ-").select_related("institution", "user")
                     .order_by("institution__code", "employee_no"))
    demo_employee = next((e for e in employees if e.user_id and e.user.username == "employee"), None)
    records = 0
    start = dt.date(year, 1, 5)
    span = max((today - start).days, 1)
    for index, employee in enumerate(employees):
        is_demo = employee is demo_employee
        picks = 3 if is_demo else (1 if rng.random() < 0.3 else 0)
        for n in range(picks):
            code = ("V02", "V03", "V04")[n] if is_demo else rng.choice(ORDINARY_CODES)
            day = start + dt.timedelta(days=rng.randrange(span))
            services.record_points(finance, employee, services.RecordInput(
                date=day, kind=RecordKind.DEDUCTION, violation_code=code, source="accounting_check"))
            records += 1
        if is_demo or rng.random() < 0.15:
            services.record_points(finance, employee, services.RecordInput(
                date=start, kind=RecordKind.COMMENDATION, module="publicity", points=Decimal("3"),
                note="廉洁征文获奖"))
            records += 1
        if index in RED_LINE_CASES:
            record = services.record_points(finance, employee, services.RecordInput(
                date=start + dt.timedelta(days=30), kind=RecordKind.DEDUCTION, violation_code="R02",
                source="external", note="公安机关通报"))
            records += 1
            if RED_LINE_CASES[index]:
                services.decide_blacklist(finance, record.blacklist_entry, True, "经核实属实")
    return f"员工清廉积分：违规细则 {len(VIOLATIONS)} 项，{year} 年记录 {records} 条"
