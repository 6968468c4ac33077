from types import SimpleNamespace

import pytest

from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user


@pytest.fixture
def org(db):
    """A bank and an insurer; an employee with a login in each; a head of the bank; the finance center."""
    a = InstitutionFactory(code="A001", name="甲银行", category="bank")
    b = InstitutionFactory(code="B001", name="乙保险", category="insurance")
    emp_a = employee_login(a, "emp_a", "甲员工")
    emp_b = employee_login(b, "emp_b", "乙员工")
    head_a = institution_user(a, "institution_head", username="head_a", is_staff=True)
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    return SimpleNamespace(a=a, b=b, emp_a=emp_a, emp_b=emp_b, head_a=head_a, finance=finance)


def employee_login(institution, username, name):
    user = institution_user(institution, "employee", username=username)
    EmployeeFactory(institution=institution, name=name, user=user)
    return user
