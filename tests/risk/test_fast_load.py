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
