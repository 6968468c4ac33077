"""An exemplar confirmed while a deduction of the same employee is being recorded: the confirmation
waits for it and then refuses. (Review finding: the proposals were read without the deduction not yet
committed, and an employee with a deduction of the year became the year's exemplar.)"""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings

from core.errors import StateConflict
from staff_points import services
from staff_points.models import Exemplar, ViolationType
from tests.concurrency import crossing
from tests.factories import EmployeeFactory, InstitutionFactory, institution_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


def test_an_exemplar_confirmed_while_a_deduction_commits_is_refused(finance_user):
    ViolationType.objects.create(code="V01", name="收受礼品", module="discipline", points=Decimal("10"))
    bank = InstitutionFactory(code="A001")
    head = institution_user(bank, "institution_head", username="head_a")
    employee = EmployeeFactory(institution=bank, name="李四", employee_no="E2")
    year = dt.date.today().year
    waited, outcome = crossing(
        lambda: services.record_points(finance_user, employee, services.RecordInput(
            date=dt.date(year, 1, 1), kind="deduction", violation_code="V01")),
        lambda: services.confirm_exemplar(head, employee, year))
    assert "first_error" not in outcome, outcome
    assert waited, "the confirmation did not wait for the deduction"
    assert isinstance(outcome.get("error"), StateConflict), outcome
    assert not Exemplar.objects.exists()


def test_an_import_and_a_confirmation_crossed_leave_no_exemplar_with_a_deduction(finance_user):
    """The other order, through an import: the confirmation commits while the import's deduction is being
    stored; the import, holding its employees only after its rows, waits for it and withdraws it."""
    import tablib

    ViolationType.objects.create(code="V01", name="收受礼品", module="discipline", points=Decimal("10"))
    bank = InstitutionFactory(code="A001")
    head = institution_user(bank, "institution_head", username="head_a")
    employee = EmployeeFactory(institution=bank, name="李四", employee_no="E2")
    year = dt.date.today().year
    data = tablib.Dataset(headers=["institution_code", "employee_no", "date", "kind", "violation_code", "module",
                                   "points", "source", "note"])
    data.append(["A001", "E2", f"{year}-01-01", "deduction", "V01", "", "", "manual", ""])
    waited, outcome = crossing(lambda: services.confirm_exemplar(head, employee, year),
                               lambda: services.import_records(data, year))
    assert "first_error" not in outcome and "error" not in outcome, outcome
    assert waited, "the import did not wait for the confirmation"
    assert outcome["value"].ok, outcome["value"].problems
    assert Exemplar.objects.get().withdrawn_because.employee == employee
