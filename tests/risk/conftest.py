import csv
import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from risk import rules
from tests.conftest import client_for
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user


@pytest.fixture
def bank(db):
    """Two 路桥 banks, one 椒江 bank; a filer and a head of A; employees E1–E4 of A, E1 of B."""
    a = InstitutionFactory(code="RA01", name="甲银行")
    b = InstitutionFactory(code="RB01", name="乙银行")
    from institutions.models import District

    c = InstitutionFactory(code="RC01", name="丙银行", district=District.objects.get(code="331002"))
    for no in ("E1", "E2", "E3", "E4"):
        EmployeeFactory(institution=a, employee_no=no, name=f"员工{no}")
    EmployeeFactory(institution=b, employee_no="E1", name="乙员工")
    EmployeeFactory(institution=c, employee_no="E1", name="丙员工")
    filer = institution_user(a, "institution_filer", username="risk_filer", email="filer@example.invalid")
    head = institution_user(a, "institution_head", username="risk_head")
    filer_b = institution_user(b, "institution_filer", username="risk_filer_b")
    filer_c = institution_user(c, "institution_filer", username="risk_filer_c")
    emp = institution_user(a, "employee", username="risk_emp")
    fc = UserFactory(username="risk_fc", roles=["finance_center"])
    fc_jj = UserFactory(username="risk_fc_jj", roles=["finance_center"], roles__districts=["331002"])
    insp = UserFactory(username="risk_insp", roles=["inspector"])
    return SimpleNamespace(a=a, b=b, c=c, filer=filer, head=head, filer_b=filer_b, filer_c=filer_c, emp=emp, fc=fc,
                           fc_jj=fc_jj, insp=insp)


def csv_file(kind: str, rows: list[dict], name: str | None = None) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=rules.COLUMNS[kind])
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c, "") for c in rules.COLUMNS[kind]})
    return SimpleUploadedFile(name or f"{kind}.csv", out.getvalue().encode(), content_type="text/csv")


_seq = iter(range(1, 10**9))


def txn(employee_no, occurred_at, amount, counterparty_id="CP1", *, direction="out", channel="transfer",
        counterparty_type="individual", mcc="", txn_id=None):
    return {"txn_id": txn_id or f"T{next(_seq)}", "employee_no": employee_no, "occurred_at": occurred_at,
            "direction": direction, "amount": str(amount), "channel": channel, "counterparty_id": counterparty_id,
            "counterparty_name": "对手", "counterparty_type": counterparty_type, "merchant_category": mcc}


def rel(employee_no, counterparty_id, since, until="", relation="loan_officer"):
    return {"employee_no": employee_no, "counterparty_id": counterparty_id, "relation": relation, "since": since,
            "until": until}


def evt(employee_no, occurred_at, action, target_id=""):
    return {"employee_no": employee_no, "occurred_at": occurred_at, "action": action, "target_id": target_id}


class Portal:
    def __init__(self, user):
        self.user = user
        self.client = client_for(user)

    def upload(self, kind, rows, **extra):
        return self.client.post("/api/v1/risk/uploads/", {"kind": kind, "file": csv_file(kind, rows), **extra},
                                format="multipart")

    def screen(self, date_from, date_to):
        return self.client.post("/api/v1/risk/screenings/", {"from": date_from, "to": date_to}, format="json")

    def alerts(self, **params):
        response = self.client.get("/api/v1/risk/alerts/", {"page_size": 500, **params})
        assert response.status_code == 200, response.content
        return response.json()["results"]

    def keys(self, rule=None):
        return sorted((a["rule"], a["employee_no"], a["counterparty_id"], a["period"])
                      for a in self.alerts(**({"rule": rule} if rule else {})))


@pytest.fixture
def portal(bank):
    return Portal(bank.filer)


def load(portal, transactions=(), relationships=(), events=()):
    for kind, rows in (("relationships", relationships), ("transactions", transactions), ("events", events)):
        if rows:
            response = portal.upload(kind, list(rows))
            assert response.status_code == 201, response.content
