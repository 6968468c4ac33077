"""Large CSV files of transactions are checked and written in PostgreSQL (the fast path); the same
scenarios as the row-by-row path must give the same results, and any bad row must still be reported
with its line by the exact path. Here every file counts as large."""

import pytest

from risk import services
from risk.models import Transaction

from .conftest import txn
from .test_loading import (  # noqa: F401  (run again here, on the fast path)
    test_a_bad_file_is_refused_whole_with_every_line,
    test_good_transactions_are_stored_and_a_txn_id_loaded_again_replaces_its_row,
    test_other_bad_files,
)
from .test_rules import (  # noqa: F401
    loaded,
    test_every_planted_alert_once_and_no_near_miss,
    test_rerun_adds_evidence_to_existing_keys_and_no_duplicates,
)


@pytest.fixture(autouse=True)
def _every_file_is_large(settings):
    settings.RISK_FAST_LOAD_MIN_ROWS = 1


@pytest.fixture
def spy(monkeypatch):
    calls = []
    real = services.parse_extract

    def parse(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "parse_extract", parse)
    return calls


def test_a_good_file_never_reaches_the_row_by_row_path(portal, bank, spy):
    rows = [txn("E1", "2026-03-10 09:00:00", "5000.00", txn_id="F1"),
            txn("E2", "2026-03-10T09:00:00+08:00", "12.5", txn_id="F2"),
            txn("E3", "2026-03-10T01:00:00Z", "1", txn_id="F3", mcc="7995")]
    response = portal.upload("transactions", rows)
    assert response.status_code == 201 and response.json()["rows"] == 3
    assert spy == []
    moments = {t.txn_id: t.occurred_at.isoformat() for t in Transaction.objects.all()}
    assert moments == {"F1": "2026-03-10T01:00:00+00:00", "F2": "2026-03-10T01:00:00+00:00",
                       "F3": "2026-03-10T01:00:00+00:00"}
    assert {str(t.occurred_on) for t in Transaction.objects.all()} == {"2026-03-10"}


def test_a_bad_row_takes_the_exact_path(portal, bank, spy):
    response = portal.upload("transactions", [txn("E1", "2026-03-10 09:00:00", "100"),
                                              txn("E1", "2026-02-30 09:00:00", "100")])
    assert response.status_code == 400 and response.json()["errors"][0]["line"] == 3
    assert spy == ["transactions"] and not Transaction.objects.exists()


def test_times_postgresql_would_read_but_python_refuses_are_refused_with_their_lines(portal, bank, spy):
    rows = [txn("E1", "2026-03-10 09:00:00", "100"),
            txn("E1", "2026-03-10 24:00:00", "100"),  # line 3: PostgreSQL reads it as the next midnight
            txn("E1", "2026-03-10 23:59:60", "100"),  # line 4: a leap second
            txn("E1", "infinity", "100"),  # line 5
            txn("E1", "2026-03-10", "100"),  # line 6: no time
            txn("E1", "2026-03-10 09:00:00", "0.00")]  # line 7
    response = portal.upload("transactions", rows)
    assert response.status_code == 400
    assert [e["line"] for e in response.json()["errors"]] == [3, 4, 5, 6, 7]
    assert spy == ["transactions"] and not Transaction.objects.exists()


def test_values_the_checks_doubt_are_stored_as_the_row_by_row_path_stores_them(portal, bank, spy):
    rows = [txn("E1", "2026-03-10T09:00:00.500+08:00", "1.500", txn_id="\tF9 ", mcc=""),
            txn("E2", "2026-03-10 09:00", "2e1", txn_id="F10")]
    response = portal.upload("transactions", rows)
    assert response.status_code == 201, response.content
    stored = {t.txn_id: t for t in Transaction.objects.all()}
    assert set(stored) == {"F9", "F10"}
    assert str(stored["F9"].amount) == "1.50"
    assert stored["F9"].occurred_at.isoformat() == "2026-03-10T01:00:00.500000+00:00"
    assert stored["F10"].occurred_at.isoformat() == "2026-03-10T01:00:00+00:00" and str(stored["F10"].amount) == "20.00"
    assert spy == ["transactions"]


def test_the_fast_path_stores_trimmed_values_and_shanghai_days(portal, bank, spy):
    rows = [txn("E1", "2026-03-10 23:30:00", "10", counterparty_id=" C7 ", txn_id=" F11\u3000"),
            txn("E1", "2026-03-10T23:30:00Z", "10", txn_id="F12")]
    response = portal.upload("transactions", rows)
    assert response.status_code == 201 and spy == []
    stored = {t.txn_id: t for t in Transaction.objects.all()}
    assert stored["F11"].counterparty_id == "C7" and str(stored["F11"].occurred_on) == "2026-03-10"
    assert str(stored["F12"].occurred_on) == "2026-03-11"


def test_loading_again_replaces_rows_on_the_fast_path_and_a_file_with_a_repeated_txn_id_is_refused(portal, bank, spy):
    assert portal.upload("transactions", [txn("E1", "2026-03-10 09:00:00", "10", txn_id="R1"),
                                          txn("E2", "2026-03-11 09:00:00", "20", txn_id="R2")]).status_code == 201
    again = portal.upload("transactions", [txn("E1", "2026-03-12 09:00:00", "30", txn_id="R1"),
                                           txn("E3", "2026-03-12 09:00:00", "40", txn_id="R3")])
    assert again.status_code == 201 and spy == []
    assert {t.txn_id: str(t.amount) for t in Transaction.objects.all()} == {"R1": "30.00", "R2": "20.00", "R3": "40.00"}
    twice = portal.upload("transactions", [txn("E1", "2026-03-12 09:00:00", "50", txn_id="R4"),
                                           txn("E1", "2026-03-12 09:00:00", "60", txn_id="R4")])
    assert twice.status_code == 400 and twice.json()["errors"][0]["line"] == 3
    assert not Transaction.objects.filter(txn_id="R4").exists()


@pytest.mark.parametrize("amount", ["12.", ".5", "+5", "007", "1e2", "NaN", "Infinity", "-3", "1 000", "12.345"])
def test_an_amount_that_is_not_the_rendering_of_its_value_is_left_to_the_exact_path(portal, bank, spy, amount):
    """The fast path keeps an amount only when it reads exactly as its value renders; anything else
    goes to the row-by-row path, which stores what it stores or names the line, never a silent reading."""
    rows = [txn("E1", "2026-03-10 09:00:00", "10.50", txn_id="A1"),
            txn("E1", "2026-03-10 09:00:00", amount, txn_id="A2")]
    response = portal.upload("transactions", rows)
    assert spy == ["transactions"]
    if response.status_code == 400:
        assert response.json()["errors"][0]["line"] == 3 and not Transaction.objects.exists()
    else:
        assert response.status_code == 201
        assert {t.txn_id for t in Transaction.objects.all()} == {"A1", "A2"}


def test_canonical_amounts_stay_on_the_fast_path(portal, bank, spy):
    rows = [txn("E1", "2026-03-10 09:00:00", amount, txn_id=f"C{i}") for i, amount in
            enumerate(["10.50", "7", "0.01", "99999999999999.99", "120.5"])]
    response = portal.upload("transactions", rows)
    assert response.status_code == 201 and spy == []
    assert sorted(str(t.amount) for t in Transaction.objects.all()) == sorted(
        ["10.50", "7.00", "0.01", "99999999999999.99", "120.50"])


@pytest.mark.parametrize("fast", [True, False])
def test_a_load_summarizes_the_pages_it_appended_in_the_brin_index(portal, bank, settings,
                                                                  django_capture_on_commit_callbacks, fast):
    """Screenings read an institution's transactions through a BRIN index; a page range nobody has
    summarized yet is read by every institution's screening, so a load summarizes its own pages."""
    from django.db import connection

    settings.RISK_FAST_LOAD_MIN_ROWS = 1 if fast else 10**9
    rows = [txn("E1", "2026-03-10 09:00:00", "10", txn_id=f"S{i}") for i in range(3000)]  # several page ranges
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert portal.upload("transactions", rows).status_code == 201
    assert services.summarize_new_pages in callbacks
    with connection.cursor() as cursor:
        cursor.execute("SELECT brin_summarize_new_values('risk_txn_inst_day_brin')")
        assert cursor.fetchone()[0] == 0


def test_a_failed_summarizing_never_fails_the_committed_upload(portal, bank, settings, monkeypatch,
                                                                django_capture_on_commit_callbacks, caplog):
    """The summarizing runs after the rows committed: a database error there (here the index is not
    found; a lock not granted in time is another) is logged, and the upload is still answered 201."""
    settings.RISK_FAST_LOAD_MIN_ROWS = 1
    monkeypatch.setattr(services, "TRANSACTIONS_BRIN_INDEX", "risk_no_such_index")
    with django_capture_on_commit_callbacks(execute=True):
        response = portal.upload("transactions", [txn("E1", "2026-03-10 09:00:00", "10", txn_id="K1")])
    assert response.status_code == 201 and Transaction.objects.filter(txn_id="K1").exists()
    assert "not summarized now" in caplog.text
