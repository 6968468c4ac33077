"""The pages: upload with its errors, screening, the queue, an alert's actions, the summary."""

import re

import pytest
from django.test import Client

from risk.models import Alert, Transaction

from .conftest import Portal, csv_file, load, rel, txn


def client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def screened(portal, bank):
    load(portal, [txn("E1", "2026-03-10 09:00:00", "8000", "C1", counterparty_type="customer")],
         [rel("E1", "C1", "2026-01-01")])
    return portal


def test_upload_page_stores_or_lists_the_bad_lines(bank):
    c = client(bank.filer)
    page = c.get("/risk/upload/")
    assert page.status_code == 200 and "甲银行" in page.content.decode()
    bad = c.post("/risk/upload/", {"kind": "transactions", "file": csv_file("transactions", [
        txn("E1", "2026-03-10 09:00:00", "100"), txn("E9", "2026-03-10 09:00:00", "100")])})
    assert bad.status_code == 200 and "工号 E9 不是本机构的员工" in bad.content.decode()
    assert not Transaction.objects.exists()
    good = c.post("/risk/upload/", {"kind": "transactions", "file": csv_file("transactions", [
        txn("E1", "2026-03-10 09:00:00", "100")])})
    assert good.status_code == 302 and Transaction.objects.count() == 1
    assert client(bank.emp).get("/risk/upload/").status_code == 403
    assert client(bank.fc).get("/risk/upload/").status_code == 403


def test_screen_queue_alert_and_actions(screened, bank):
    c = client(bank.filer)
    response = c.post("/risk/screen/", {"date_from": "2026-01-01", "date_to": "2026-12-31"})
    assert response.status_code == 302
    alert = Alert.objects.get(rule="R01")
    queue = c.get("/risk/").content.decode()
    assert "与本人客户资金往来" in queue and "E1" in queue
    page = c.get(f"/risk/alerts/{alert.pk}/")
    assert page.status_code == 200 and "8000.00" in page.content.decode()
    c.post(f"/risk/alerts/{alert.pk}/review/", {"note": ""})
    c.post(f"/risk/alerts/{alert.pk}/dismiss/", {"note": ""})  # refused: no reason
    alert.refresh_from_db()
    assert alert.status == "reviewing"
    c.post(f"/risk/alerts/{alert.pk}/confirm/", {"note": "属实"})
    c.post(f"/risk/alerts/{alert.pk}/escalate/", {"note": "上报"})
    alert.refresh_from_db()
    assert alert.status == "escalated"
    fc = client(bank.fc)
    assert "E1" in fc.get("/risk/").content.decode()
    assert fc.get(f"/risk/alerts/{alert.pk}/").status_code == 200
    assert client(bank.filer_b).get(f"/risk/alerts/{alert.pk}/").status_code == 404
    assert client(bank.fc_jj).get(f"/risk/alerts/{alert.pk}/").status_code == 404
    assert client(bank.filer_b).post(f"/risk/alerts/{alert.pk}/review/").status_code == 404
    summary = fc.get("/risk/summary/")
    assert summary.status_code == 200
    # Without the forms' random CSRF tokens (64 letters and digits: "E1" in one of them one page in 60).
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", summary.content.decode())
    assert "甲银行" in text and "E1" not in text and "C1" not in text
    assert client(bank.filer).get("/risk/summary/").status_code == 403


def test_pages_for_375px_use_labelled_cells(screened, bank):
    Portal(bank.filer).screen("2026-01-01", "2026-12-31")
    assert 'data-label="规则"' in client(bank.filer).get("/risk/").content.decode()
