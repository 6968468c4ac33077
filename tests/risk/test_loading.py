"""Loading the extracts: validated whole (row errors with lines, nothing stored), idempotent."""

import datetime as dt
import io

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from risk.models import Event, Relationship, Screening, Transaction, Upload

from .conftest import Portal, evt, load, rel, txn


def test_good_transactions_are_stored_and_a_txn_id_loaded_again_replaces_its_row(portal, bank):
    response = portal.upload("transactions", [txn("E1", "2026-03-10 09:00:00", "5000.00", txn_id="X1"),
                                              txn("E2", "2026-03-10T09:00:00+08:00", "12.5", txn_id="X2")])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "transactions" and body["rows"] == 2 and body["id"]
    again = portal.upload("transactions", [txn("E1", "2026-03-11 09:00:00", "7000", txn_id="X1")])
    assert again.status_code == 201
    assert Transaction.objects.filter(institution=bank.a).count() == 2
    row = Transaction.objects.get(txn_id="X1")
    assert str(row.amount) == "7000.00" and str(row.occurred_on) == "2026-03-11"
    # the time without an offset is Shanghai time
    assert Transaction.objects.get(txn_id="X2").occurred_at.isoformat() == "2026-03-10T01:00:00+00:00"


def test_events_and_relationships_loaded_twice_are_not_doubled(portal, bank):
    events = [evt("E1", "2026-03-02 07:00:00", "override"), evt("E1", "2026-03-02 07:00:00", "override"),
              evt("E2", "2026-03-02 08:00:00", "query_customer", "C9")]
    load(portal, events=events, relationships=[rel("E1", "C1", "2026-01-01")])
    load(portal, events=events, relationships=[rel("E1", "C1", "2026-01-01", "2026-06-30")])
    assert Event.objects.filter(institution=bank.a).count() == 3  # the file's own repeats are kept
    assert Relationship.objects.get(institution=bank.a).until.isoformat() == "2026-06-30"


def test_a_bad_file_is_refused_whole_with_every_line(portal, bank):
    rows = [txn("E1", "2026-03-10 09:00:00", "100", txn_id="G1"),
            txn("E9", "2026-03-10 09:00:00", "100"),  # line 3: unknown employee
            txn("E1", "2026-03-10 09:00:00", "-5"),  # line 4: negative
            txn("E1", "2026-03-10 09:00:00", "1.005"),  # line 5: three decimals
            txn("E1", "not a time", "100"),  # line 6
            txn("E1", "2026-03-10 09:00:00", "100", direction="sideways"),  # line 7
            txn("E1", "2026-03-10 09:00:00", "100", mcc="79"),  # line 8
            txn("E1", "2026-03-10 09:00:00", "100", txn_id="G1"),  # line 9: duplicate of line 2
            txn("E1", "2026-03-10 09:00:00", "100", counterparty_type="alien")]  # line 10
    response = portal.upload("transactions", rows)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["line"] for e in errors] == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "E9" in errors[0]["message"] and all(e["message"] for e in errors)
    assert not Transaction.objects.exists() and not Upload.objects.exists()


def test_other_bad_files(portal):
    c = portal.client
    url = "/api/v1/risk/uploads/"
    missing = SimpleUploadedFile("t.csv", b"txn_id,employee_no\nX,E1\n")
    response = c.post(url, {"kind": "transactions", "file": missing}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 1
    assert c.post(url, {"kind": "transactions", "file": SimpleUploadedFile("t.pdf", b"%PDF")},
                  format="multipart").status_code == 400
    response = c.post(url, {"kind": "nonsense", "file": SimpleUploadedFile("t.csv", b"a\n1\n")}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"] and response.json()["kind"]
    assert c.post(url, {"kind": "events"}, format="multipart").status_code == 400
    bad_rel = portal.upload("relationships", [rel("E1", "C1", "2026-05-01", "2026-04-01"),
                                              rel("E1", "C1", "2026-13-01", relation="friend")])
    assert bad_rel.status_code == 400 and [e["line"] for e in bad_rel.json()["errors"]] == [2, 3]
    assert not Relationship.objects.exists()


def test_xlsx(portal, bank):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["employee_no", "counterparty_id", "relation", "since", "until"])
    sheet.append(["E1", "C1", "loan_officer", "2026-01-01", None])
    sheet.append(["E2", "C2", "account_manager", "2026-02-01", "2026-03-01"])
    out = io.BytesIO()
    book.save(out)
    response = portal.client.post("/api/v1/risk/uploads/", {"kind": "relationships", "file": SimpleUploadedFile(
        "rel.xlsx", out.getvalue())}, format="multipart")
    assert response.status_code == 201, response.content
    assert Relationship.objects.filter(institution=bank.a).count() == 2


def test_only_filers_and_heads_upload(bank):
    for user in (bank.emp, bank.fc, bank.insp):
        response = Portal(user).upload("events", [evt("E1", "2026-03-02 07:00:00", "login")])
        assert response.status_code == 403, user
    # a filer naming another institution: 404
    response = Portal(bank.filer).upload("events", [evt("E1", "2026-03-02 07:00:00", "login")], institution="RB01")
    assert response.status_code == 404
    assert not Event.objects.exists()
    assert Portal(bank.head).upload("events", [evt("E1", "2026-03-02 07:00:00", "login")]).status_code == 201


@pytest.mark.skipif("sqlite" not in settings.DATABASES["default"]["ENGINE"],
                    reason="what an installation on SQLite (make run without DATABASE_URL) does")
def test_on_sqlite_screening_is_refused_up_front_and_the_demo_loads_nothing(portal, bank, client):
    from risk.demo import seed_risk

    load(portal, [txn("E1", "2026-03-10 09:00:00", "8000", "C1", counterparty_type="customer")])
    response = portal.screen("2026-01-01", "2026-12-31")
    assert response.status_code == 503
    assert "需要 PostgreSQL" in response.json()["detail"]
    assert not Screening.objects.exists()  # nothing stored, no screening left failed
    client.force_login(bank.filer)
    page = client.get("/risk/upload/").content.decode()
    assert "需要 PostgreSQL" in page and "disabled>" in page
    response = client.post("/risk/screen/", {"institution": "RA01", "date_from": "2026-01-01",
                                             "date_to": "2026-12-31"}, follow=True)
    assert "需要 PostgreSQL" in response.content.decode() and not Screening.objects.exists()
    from risk import services

    assert services.screen_previous_month(dt.date(2026, 4, 15)) == 0  # the monthly job: nothing queued
    assert not Screening.objects.exists()
    rows = Transaction.objects.count()
    assert "未载入" in seed_risk()
    assert Transaction.objects.count() == rows and not Screening.objects.exists()
