from types import SimpleNamespace

import pytest

from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from warnings_feed import services


@pytest.fixture
def org(db):
    """Two banks and an insurer in Luqiao; employees with and without accounts; a head of bank A."""
    a = InstitutionFactory(code="A001", name="甲银行", category="bank")
    b = InstitutionFactory(code="B001", name="乙保险", category="insurance")
    c = InstitutionFactory(code="C001", name="丙银行", category="bank")
    emp_a = employee_login(a, "emp_a", "甲员工", email="emp_a@example.invalid")
    emp_b = employee_login(b, "emp_b", "乙员工", email="emp_b@example.invalid")
    emp_c = employee_login(c, "emp_c", "丙员工")
    EmployeeFactory(institution=a, name="甲同事")  # no login of their own
    head_a = institution_user(a, "institution_head", username="head_a", is_staff=True)
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    return SimpleNamespace(a=a, b=b, c=c, emp_a=emp_a, emp_b=emp_b, emp_c=emp_c, head_a=head_a, finance=finance)


def employee_login(institution, username, name, email=""):
    user = institution_user(institution, "employee", username=username, email=email)
    EmployeeFactory(institution=institution, name=name, user=user)
    return user


def draft(**overrides) -> services.Draft:
    values = {"title": "员工黄小明酒后驾车被查处", "body": "某银行员工黄小明酒后驾车，被依法查处。",
              "case_type": "drunk_driving", "severity": "high", "scope": "district"}
    return services.Draft(**{**values, **overrides})


@pytest.fixture
def publish(django_capture_on_commit_callbacks):
    """Publish as `user` and run what the commit would trigger (the fan-out task, eagerly)."""

    def _publish(user, **overrides):
        with django_capture_on_commit_callbacks(execute=True):
            return services.publish(user, draft(**overrides))

    return _publish
