"""The employee's portrait shows the year's training hours (activities' stored figures) and whether
the completion rule (ACTIVITIES_TRAINING_HOURS_REQUIRED, 8 hours by default) is met (issue #14, item 2)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client

from activities import services as activity_services
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db
YEAR = 2026


@pytest.fixture
def people(db):
    bank = InstitutionFactory(code="TP01", name="培训银行")
    other = InstitutionFactory(code="TP02", name="别家银行")
    filer = institution_user(bank, "institution_filer", username="tp_filer")
    head = institution_user(bank, "institution_head", username="tp_head")
    head_other = institution_user(other, "institution_head", username="tp_head_other")
    me = EmployeeFactory(institution=bank, name="黄小明", employee_no="E1",
                         user=UserFactory(username="tp_emp", roles=["employee"]))
    colleague = EmployeeFactory(institution=bank, name="李四", employee_no="E2")
    for hours, on, who in (("5", dt.date(YEAR, 3, 1), [me, colleague]), ("3", dt.date(YEAR, 6, 1), [me]),
                           ("6", dt.date(YEAR - 1, 6, 1), [colleague])):
        session = activity_services.record_training(filer, bank, activity_services.TrainingInput(
            title=f"廉洁培训{hours}", held_on=on, hours=Decimal(hours)))
        activity_services.set_attendance(filer, session, [e.pk for e in who])
    return {"me": me, "colleague": colleague, "head": head, "head_other": head_other}


def _training_line(user, employee, year=YEAR):
    client = Client()
    client.force_login(user)
    response = client.get(f"/points/employees/{employee.pk}/", {"year": year})
    if response.status_code != 200:
        return response.status_code, ""
    html = response.content.decode()
    match = re.search(r'<p id="portrait-training">(.*?)</p>', html, re.S)
    assert match, "the portrait has no training line"
    return 200, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_own_portrait_shows_hours_and_the_rule_met(people):
    status, line = _training_line(people["me"].user, people["me"])
    assert status == 200
    assert line == f"{YEAR} 年度参加培训 2 次，累计 8 学时（年度要求 8 学时）。 已达标"


def test_colleague_below_the_rule_and_other_years_apart(people):
    status, line = _training_line(people["head"], people["colleague"])
    assert status == 200
    assert "参加培训 1 次，累计 5 学时" in line and "未达标" in line  # last year's 6 hours do not count
    _, last_year = _training_line(people["head"], people["colleague"], YEAR - 1)
    assert "参加培训 1 次，累计 6 学时" in last_year and "未达标" in last_year


def test_the_rule_follows_the_setting(people, settings):
    settings.ACTIVITIES_TRAINING_HOURS_REQUIRED = 4
    _, line = _training_line(people["head"], people["colleague"])
    assert "年度要求 4 学时" in line and "已达标" in line


def test_another_institution_cannot_see_the_portrait(people):
    assert _training_line(people["head_other"], people["me"])[0] == 404
