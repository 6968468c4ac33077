"""The rule library on planted cases and their near misses (RISK.md), through the API as a client."""

import pytest

from risk.models import Alert

from .conftest import evt, load, rel, txn

P = "2026-01-01/2026-12-31"


def planted():
    relationships = [
        rel("E1", "CUST1", "2026-01-01"),
        rel("E2", "CUST2", "2026-05-01", "2026-05-31", relation="account_manager"),
        rel("E3", "CUST3", "2026-01-01"),
        rel("E4", "CUST4", "2026-04-02"),
    ]
    t = [
        # R01: E1 with their customer, 5,000.00 out and 6,000 in, March: one alert, two rows
        txn("E1", "2026-03-10 09:00:00", "5000.00", "CUST1", counterparty_type="customer"),
        txn("E1", "2026-03-20 09:00:00", "6000", "CUST1", direction="in", counterparty_type="customer"),
        # near miss: one cent below, April
        txn("E1", "2026-04-10 09:00:00", "4999.99", "CUST1", counterparty_type="customer"),
        # E2's customer only during May: the day before and the day after do not count, the last day does
        txn("E2", "2026-04-30 23:59:59", "10000", "CUST2", counterparty_type="customer"),
        txn("E2", "2026-06-01 00:00:00", "10000", "CUST2", counterparty_type="customer"),
        txn("E2", "2026-05-31 23:00:00", "5000", "CUST2", counterparty_type="customer"),
        # R02: E3 and P1 (not a customer): 3 transfers within 30 days (Feb 1 .. Mar 2), 50,000.00 in all
        txn("E3", "2026-02-01 10:00:00", "20000", "P1"),
        txn("E3", "2026-02-15 10:00:00", "20000", "P1", direction="in"),
        txn("E3", "2026-03-02 10:00:00", "10000", "P1", counterparty_type="company"),
        # near misses: a window of 31 days; one cent below; two transfers only; card, not transfer
        txn("E3", "2026-02-01 10:00:00", "20000", "P2"),
        txn("E3", "2026-02-15 10:00:00", "20000", "P2"),
        txn("E3", "2026-03-03 10:00:00", "10000", "P2"),
        txn("E3", "2026-06-01 10:00:00", "20000", "P3"),
        txn("E3", "2026-06-05 10:00:00", "20000", "P3"),
        txn("E3", "2026-06-10 10:00:00", "9999.99", "P3"),
        txn("E3", "2026-07-01 10:00:00", "30000", "P5"),
        txn("E3", "2026-07-02 10:00:00", "30000", "P5"),
        txn("E2", "2026-07-01 10:00:00", "30000", "P6", channel="card"),
        txn("E2", "2026-07-02 10:00:00", "30000", "P6", channel="card"),
        txn("E2", "2026-07-03 10:00:00", "30000", "P6", channel="card"),
        # a customer at the time (CUST3 of E3): not private lending (but R01 for the 46,000)
        txn("E3", "2026-08-01 10:00:00", "2000", "CUST3"),
        txn("E3", "2026-08-02 10:00:00", "2000", "CUST3"),
        txn("E3", "2026-08-03 10:00:00", "46000", "CUST3", counterparty_type="company"),
        # R03: E4's cash out, 50,000 within 7 days (Jul 1 .. Jul 7)
        txn("E4", "2026-07-01 10:00:00", "25000", "BANK", channel="cash", counterparty_type="company"),
        txn("E4", "2026-07-07 10:00:00", "25000", "BANK", channel="cash", counterparty_type="company"),
        # near misses: 8 days; cash in
        txn("E2", "2026-07-01 10:00:00", "25000", "BANK", channel="cash", counterparty_type="company"),
        txn("E2", "2026-07-08 10:00:00", "25000", "BANK", channel="cash", counterparty_type="company"),
        txn("E1", "2026-07-01 10:00:00", "60000", "BANK", direction="in", channel="cash", counterparty_type="company"),
        # R04: gambling MCC; outside the screening's dates (local time!) does not count
        txn("E1", "2026-05-05 22:00:00", "100", "M1", channel="card", counterparty_type="merchant", mcc="7995"),
        txn("E4", "2026-01-01 00:00:01", "100", "M2", channel="card", counterparty_type="merchant", mcc="7802"),
        txn("E3", "2025-12-31 23:59:59", "100", "M2", channel="card", counterparty_type="merchant", mcc="7801"),
        txn("E2", "2026-05-05 22:00:00", "100", "M3", channel="card", counterparty_type="merchant", mcc="7996"),
    ]
    e = [
        # R05: E1 on 3 days of March: 07:29:59, 19:00:00, a Saturday
        evt("E1", "2026-03-02 07:29:59", "modify_limit"),
        evt("E1", "2026-03-03 19:00:00", "override"),
        evt("E1", "2026-03-07 10:00:00", "override"),
        # E4 on three public holidays on weekdays (May 1, 4, 5)
        evt("E4", "2026-05-01 10:00:00", "override"),
        evt("E4", "2026-05-04 10:00:00", "override"),
        evt("E4", "2026-05-05 10:00:00", "modify_limit"),
        # near misses: E2 at 07:30:00 and 18:59:59, two make-up working Saturdays, two holidays
        evt("E2", "2026-02-14 10:00:00", "override"),
        evt("E2", "2026-02-28 10:00:00", "override"),
        evt("E2", "2026-02-16 10:00:00", "override"),
        evt("E2", "2026-02-17 10:00:00", "override"),
        evt("E2", "2026-03-09 06:00:00", "override"),
        evt("E2", "2026-03-10 20:00:00", "override"),
        evt("E2", "2026-03-11 07:30:00", "override"),
        evt("E2", "2026-03-12 18:59:59", "modify_limit"),
        # E3: three off-hours on one day; other actions at night
        evt("E3", "2026-03-02 05:00:00", "override"),
        evt("E3", "2026-03-02 06:00:00", "override"),
        evt("E3", "2026-03-02 22:00:00", "override"),
        evt("E3", "2026-03-03 22:00:00", "login"),
        evt("E3", "2026-03-04 22:00:00", "query_customer", "X"),
        evt("E3", "2026-03-05 22:00:00", "query_customer", "X"),
    ]
    # R06: E2 queries 20 non-customers on Apr 1
    e += [evt("E2", f"2026-04-01 10:{i:02d}:00", "query_customer", f"Q{i}") for i in range(20)]
    # near misses: E3 19 non-customers + 5 of their customer; E4 19 + their customer from Apr 2 on
    e += [evt("E3", f"2026-04-01 10:{i:02d}:00", "query_customer", f"Q{i}") for i in range(19)]
    e += [evt("E3", f"2026-04-01 11:{i:02d}:00", "query_customer", "CUST3") for i in range(5)]
    e += [evt("E4", f"2026-04-02 10:{i:02d}:00", "query_customer", f"Q{i}") for i in range(19)]
    e += [evt("E4", "2026-04-02 11:00:00", "query_customer", "CUST4")]
    # E1: 10 late on Apr 1 and 10 early on Apr 2 (Shanghai days)
    e += [evt("E1", f"2026-04-01 23:{i:02d}:00", "query_customer", f"Q{i}") for i in range(10)]
    e += [evt("E1", f"2026-04-02T00:{i:02d}:00+08:00", "query_customer", f"Q{i + 10}") for i in range(10)]
    return relationships, t, e


EXPECTED = sorted([
    ("R01", "E1", "CUST1", "2026-03"),
    ("R01", "E2", "CUST2", "2026-05"),
    ("R01", "E3", "CUST3", "2026-08"),
    ("R02", "E3", "P1", P),
    ("R03", "E4", None, P),
    ("R04", "E1", None, P),
    ("R04", "E4", None, P),
    ("R05", "E1", None, "2026-03"),
    ("R05", "E4", None, "2026-05"),
    ("R06", "E2", None, "2026-04-01"),
])


@pytest.fixture
def loaded(portal):
    relationships, transactions, events = planted()
    load(portal, transactions, relationships, events)
    return portal


def test_every_planted_alert_once_and_no_near_miss(loaded):
    response = loaded.screen("2026-01-01", "2026-12-31")
    assert response.status_code == 201, response.content
    body = response.json()
    assert loaded.keys() == EXPECTED
    assert body["alerts_created"] == len(EXPECTED) and body["alerts_total"] == len(EXPECTED)
    status = loaded.client.get(f"/api/v1/risk/screenings/{body['id']}/").json()
    assert status["status"] == "done" and status["alerts_created"] == len(EXPECTED)


def test_evidence_severity_and_due_dates(loaded):
    loaded.screen("2026-01-01", "2026-12-31")
    r01 = loaded.alerts(rule="R01")
    march = next(a for a in r01 if a["period"] == "2026-03")
    assert [e["amount"] for e in march["evidence"]] == ["5000.00", "6000.00"]
    assert march["severity"] == "high" and march["status"] == "new"
    r02 = loaded.alerts(rule="R02")[0]
    assert sorted(e["amount"] for e in r02["evidence"]) == ["10000.00", "20000.00", "20000.00"]
    r06 = loaded.alerts(rule="R06")[0]
    assert len(r06["evidence"]) == 20 and r06["severity"] == "medium"
    alert = Alert.objects.get(rule="R02")
    assert alert.rule_version == "2" and alert.params == {"min_count": 3, "window_days": 30, "min_total": "50000.00"}
    assert alert.due_on > alert.raised_on
    assert loaded.alerts(severity="medium") and all(a["severity"] == "medium" for a in loaded.alerts(severity="medium"))


def test_rerun_adds_evidence_to_existing_keys_and_no_duplicates(loaded):
    first = loaded.screen("2026-01-01", "2026-12-31").json()
    again = loaded.screen("2026-01-01", "2026-12-31").json()
    assert again["alerts_created"] == 0 and again["alerts_total"] == first["alerts_total"]
    load(loaded, [txn("E1", "2026-03-25 09:00:00", "7000", "CUST1", counterparty_type="customer")])
    third = loaded.screen("2026-01-01", "2026-12-31").json()
    assert third["alerts_created"] == 0
    assert loaded.keys() == EXPECTED
    march = next(a for a in loaded.alerts(rule="R01") if a["period"] == "2026-03")
    assert [e["amount"] for e in march["evidence"]] == ["5000.00", "6000.00", "7000.00"]


def test_window_must_lie_inside_the_screening(loaded):
    """Rows outside [from, to] are not looked at: March alone sees R01 and R05 of March only."""
    loaded.screen("2026-03-01", "2026-03-31")
    assert loaded.keys() == [("R01", "E1", "CUST1", "2026-03"), ("R05", "E1", None, "2026-03")]


def test_disabled_rule_and_changed_parameters(loaded, bank):
    c = loaded.client
    assert c.post("/api/v1/risk/rules/R04/", {"enabled": False}, format="json").status_code == 400  # no reason
    assert c.post("/api/v1/risk/rules/R04/", {"enabled": False, "reason": "测试"}, format="json").status_code == 200
    response = c.post("/api/v1/risk/rules/R01/", {"params": {"min_amount": "6000"}, "reason": "提高门槛"},
                      format="json")
    assert response.status_code == 200 and response.json()["params"]["min_amount"] == "6000.00"
    assert c.post("/api/v1/risk/rules/R01/", {"params": {"min_amount": "-1"}, "reason": "x"},
                  format="json").status_code == 400
    assert c.post("/api/v1/risk/rules/R01/", {"params": {"bogus": 1}, "reason": "x"}, format="json").status_code == 400
    loaded.screen("2026-01-01", "2026-12-31")
    keys = loaded.keys()
    assert not [k for k in keys if k[0] == "R04"]
    # 5,000 no longer counts: E1's March (6,000) and E3's August (46,000) remain, E2's May is gone
    assert [k for k in keys if k[0] == "R01"] == [("R01", "E1", "CUST1", "2026-03"), ("R01", "E3", "CUST3", "2026-08")]
    assert {a.params["min_amount"] for a in Alert.objects.filter(rule="R01")} == {"6000.00"}
    from risk.models import RuleSettingChange

    change = RuleSettingChange.objects.get(rule="R04")
    assert change.changed_by == bank.filer and change.reason == "测试"
    rules = {r["code"]: r for r in c.get("/api/v1/risk/rules/").json()["results"]}
    assert rules["R04"]["enabled"] is False and rules["R02"]["enabled"] is True


def test_suppressed_key_raises_nothing(loaded):
    c = loaded.client
    response = c.post("/api/v1/risk/suppressions/", {"rule": "R01", "employee_no": "E1", "counterparty_id": "CUST1",
                                                     "reason": "配偶账户"}, format="json")
    assert response.status_code == 201, response.content
    assert c.post("/api/v1/risk/suppressions/", {"rule": "R01", "employee_no": "E1"},
                  format="json").status_code == 400  # no reason
    loaded.screen("2026-01-01", "2026-12-31")
    keys = loaded.keys()
    assert ("R01", "E1", "CUST1", "2026-03") not in keys
    assert len(keys) == len(EXPECTED) - 1


def test_evidence_items_are_exact_and_the_session_settings_come_back(loaded):
    """Every evidence item's columns and its time at UTC+8 to the second (what the
    review page shows and what a rerun compares); the statement's own settings (time zone, index
    scans, memory) do not outlive it inside the screening's transaction."""
    from django.db import connection, transaction

    loaded.screen("2026-01-01", "2026-12-31")
    march = next(a for a in loaded.alerts(rule="R01") if a["period"] == "2026-03")
    assert march["evidence"][0] == {
        "txn_id": march["evidence"][0]["txn_id"], "occurred_at": "2026-03-10T09:00:00+08:00", "direction": "out",
        "amount": "5000.00", "channel": "transfer", "counterparty_id": "CUST1", "counterparty_type": "customer",
        "merchant_category": ""}
    r05 = loaded.alerts(rule="R05")[0]
    assert set(r05["evidence"][0]) == {"occurred_at", "action", "target_id"}
    assert r05["evidence"][0]["occurred_at"].endswith("+08:00")
    assert [e["occurred_at"] for e in r05["evidence"]] == sorted(e["occurred_at"] for e in r05["evidence"])

    from risk import rules, services

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        before = cursor.fetchone()
        services.rule_rows("R04", rules.RULES["R04"].defaults(), Alert.objects.first().institution_id,
                           __import__("datetime").date(2026, 1, 1), __import__("datetime").date(2026, 12, 31))
        cursor.execute("SELECT current_setting('TimeZone'), current_setting('enable_indexscan')")
        assert cursor.fetchone() == (before[0], "on")
