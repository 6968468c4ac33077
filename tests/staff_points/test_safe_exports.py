"""Issue #11 item 2: the point records' admin export writes a formula-like note as inert text."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client

from staff_points import services
from staff_points.models import ViolationType
from staff_points.services import RecordInput
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_point_record_admin_export_neutralises_notes_and_keeps_points(finance_user):
    ViolationType.objects.create(code="V01", name="收受礼品", module="discipline", points=Decimal("10"))
    employee = EmployeeFactory(institution=InstitutionFactory(code="A001"), name="黄小明", employee_no="E1")
    services.record_points(finance_user, employee, RecordInput(date=dt.date(2026, 3, 1), kind="deduction",
                                                               violation_code="V01", note='=HYPERLINK("http://x")'))
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    fields = {f"pointrecordresource_{name}": "on" for name in ("employee_no", "points", "note")}
    page = client.get("/admin/staff_points/pointrecord/export/")
    formats = {str(label): value for value, label in page.context["form"].fields["format"].choices}
    text = client.post("/admin/staff_points/pointrecord/export/",
                       {"format": formats["csv"], "resource": "0", **fields}).content.decode("utf-8-sig")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["note"] == "'" + '=HYPERLINK("http://x")'
    xlsx = client.post("/admin/staff_points/pointrecord/export/", {"format": formats["xlsx"], "resource": "0",
                                                                   **fields})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    header = [c.value for c in sheet[1]]
    note = sheet.cell(row=2, column=header.index("note") + 1)
    assert note.data_type == "s" and note.value.startswith("'=")
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
