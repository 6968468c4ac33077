"""Issue #11 item 2: the bulk-account csv writes a formula-like employee name as inert text."""

import csv
import io

import pytest
from django.test import Client

from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db


def test_account_csv_neutralises_names_and_keeps_the_password(org):
    employee = EmployeeFactory(institution=org.b, name='=HYPERLINK("http://x","y")', employee_no="E950")
    client = Client()
    client.force_login(org.finance)
    resp = client.post("/admin/institutions/employee/", {"action": "create_login_accounts",
                                                         "_selected_action": [employee.pk]})
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert rows[0]["姓名"] == "'" + employee.name
    employee.refresh_from_db()
    assert employee.user.check_password(rows[0]["初始密码"])
