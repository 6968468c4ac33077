"""Filing through the API: refused input stores nothing and says why; optimistic locking of entries."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from scoring.models import Assessment, Scheme, ScoreSheet, SheetEntry
from tests.conftest import client_for

from .factories import assessment_for, fill_sheet, set_year_status

pytestmark = pytest.mark.django_db


def entry_url(assessment: Assessment, source: str, code: str) -> str:
    return f"/api/v1/assessments/{assessment.pk}/sheets/{source}/entries/{code}/"


def stored(assessment: Assessment, source: str, code: str) -> SheetEntry | None:
    return SheetEntry.objects.filter(sheet__assessment=assessment, sheet__source=source,
                                     indicator__code=code).first()


@pytest.fixture
def filing(scheme, inst_a, filer_a):
    assessment = assessment_for(inst_a, scheme)
    client = client_for(filer_a)
    resp = client.put(entry_url(assessment, "self", "B1"), {"points": "36.5", "note": "自评说明"}, format="json")
    assert resp.status_code == 200, resp.json()
    return assessment, client


def test_a_good_entry_is_saved_with_its_version(filing):
    assessment, client = filing
    entry = stored(assessment, "self", "B1")
    assert entry.points == Decimal("36.5") and entry.note == "自评说明" and entry.version == 1
    assessment.refresh_from_db()
    assert assessment.state == "self_in_progress"
    assert assessment.events.filter(action="save_self", to_state="self_in_progress").exists()
    resp = client.put(entry_url(assessment, "self", "R1"), {"hit": True}, format="json")
    assert resp.status_code == 200 and resp.json()["hit"] is True and resp.json()["points"] is None


@pytest.mark.parametrize(("code", "body", "says"), [
    ("B1", {"points": "40.5"}, ["B1", "40"]),          # above max_points
    ("B3", {"points": "20.1"}, ["B3", "20"]),
    ("B1", {"points": "36.55"}, ["B1", "一位小数"]),     # two decimal places
    ("B1", {"points": "-1"}, ["B1", "0"]),              # negative
    ("B1", {"points": "-0.1"}, ["B1", "0"]),
    ("B1", {"points": "abc"}, ["B1", "abc"]),           # not a number
    ("B1", {"points": "NaN"}, ["B1"]),
    ("X1", {"points": "6.5"}, ["X1", "6"]),             # bonus above its max
    ("R1", {"points": "2"}, ["R1", "红线"]),             # red line takes 1/0 only
    ("B1", {"note": "只有说明"}, ["points"]),             # no value at all
])
def test_bad_values_are_refused_with_the_indicator_and_limit_and_nothing_is_stored(filing, code, body, says):
    assessment, client = filing
    before = list(SheetEntry.objects.values_list("pk", "points", "hit", "note", "version"))
    resp = client.put(entry_url(assessment, "self", code), body, format="json")
    assert resp.status_code == 400, resp.json()
    message = str(resp.json())
    for word in says:
        assert word in message, (word, message)
    assert list(SheetEntry.objects.values_list("pk", "points", "hit", "note", "version")) == before


def test_unknown_indicator_is_404_and_stores_nothing(filing):
    assessment, client = filing
    resp = client.put(entry_url(assessment, "self", "Z9"), {"points": "1"}, format="json")
    assert resp.status_code == 404 and "Z9" in resp.json()["detail"]
    resp = client.put(entry_url(assessment, "boss", "B1"), {"points": "1"}, format="json")
    assert resp.status_code == 404
    assert SheetEntry.objects.count() == 1


def test_a_source_the_user_may_not_fill_is_403(filing):
    assessment, client = filing
    for source in ("inspection", "third_party"):
        resp = client.put(entry_url(assessment, source, "B1"), {"points": "10"}, format="json")
        assert resp.status_code == 403, resp.json()
        assert resp.json()["detail"]
    assert not ScoreSheet.objects.filter(source__in=["inspection", "third_party"], entries__isnull=False).exists()


def test_editing_a_submitted_sheet_is_409_and_keeps_the_value(filing, head_a):
    assessment, client = filing
    resp = client_for(head_a).post(f"/api/v1/assessments/{assessment.pk}/sheets/self/submit/")
    assert resp.status_code == 200 and resp.json()["status"] == "submitted"
    resp = client.put(entry_url(assessment, "self", "B1"), {"points": "40"}, format="json")
    assert resp.status_code == 409 and "已提交" in resp.json()["detail"]
    assert stored(assessment, "self", "B1").points == Decimal("36.5")
    resp = client.put(entry_url(assessment, "self", "B2"), {"points": "40"}, format="json")
    assert resp.status_code == 409 and stored(assessment, "self", "B2") is None
    # Submitting twice is a state conflict too.
    assert client_for(head_a).post(f"/api/v1/assessments/{assessment.pk}/sheets/self/submit/").status_code == 409


@pytest.mark.parametrize(("status", "says"), [("published", "已发布"), ("notice", "公示"), ("draft", "尚未启用")])
def test_a_published_or_locked_year_is_409(filing, status, says):
    assessment, client = filing
    if status == "draft":
        Scheme.objects.filter(pk=assessment.scheme_id).update(status=status)
    else:
        set_year_status(assessment.year, status)
    resp = client.put(entry_url(assessment, "self", "B1"), {"points": "30"}, format="json")
    assert resp.status_code == 409 and says in resp.json()["detail"]
    assert stored(assessment, "self", "B1").points == Decimal("36.5")


def test_finance_center_may_not_edit_a_published_year_either(filing, finance):
    assessment, _client = filing
    set_year_status(assessment.year, "published")
    resp = client_for(finance).put(entry_url(assessment, "self", "B1"), {"points": "30"}, format="json")
    assert resp.status_code == 409
    assert stored(assessment, "self", "B1").points == Decimal("36.5")


# --------------------------------------------------------------------------------------------
# Two people saving the same entry at once


def test_stale_version_is_409_and_the_first_save_wins(filing, head_a):
    assessment, filer_client = filing
    head_client = client_for(head_a)
    # Both open the assessment and read the same version N.
    seen = [c.get(f"/api/v1/assessments/{assessment.pk}/").json()["entries"]["B1"]["self"]["version"]
            for c in (filer_client, head_client)]
    assert seen[0] == seen[1] == 1

    first = filer_client.put(entry_url(assessment, "self", "B1"), {"points": "38", "version": seen[0]},
                             format="json")
    assert first.status_code == 200 and first.json()["version"] == 2
    second = head_client.put(entry_url(assessment, "self", "B1"), {"points": "30", "version": seen[1]},
                             format="json")
    assert second.status_code == 409 and "B1" in second.json()["detail"]
    entry = stored(assessment, "self", "B1")
    assert (entry.points, entry.version) == (Decimal("38"), 2)
    # After a refresh, the second person can save on top of the first.
    again = head_client.put(entry_url(assessment, "self", "B1"), {"points": "30", "version": 2}, format="json")
    assert again.status_code == 200 and stored(assessment, "self", "B1").points == Decimal("30")
    # The If-Match header works like the body's version.
    stale = head_client.put(entry_url(assessment, "self", "B1"), {"points": "31"}, format="json", HTTP_IF_MATCH='"2"')
    assert stale.status_code == 409 and stored(assessment, "self", "B1").points == Decimal("30")


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_of_the_same_version_one_wins(scheme, inst_a, filer_a, head_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs a database with row locks shared between threads (PostgreSQL)")
    assessment = assessment_for(inst_a, scheme)
    fill_sheet(assessment, "self", {"B1": Decimal("20")}, submit=False)
    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def save(user, points):
        from django.db import connections

        client = client_for(user)
        barrier.wait()
        try:
            answers[points] = client.put(entry_url(assessment, "self", "B1"), {"points": points, "version": 1},
                                         format="json").status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(u, p)) for u, p in ((filer_a, "38"), (head_a, "30"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers.values()) == [200, 409], answers
    winner = next(p for p, code in answers.items() if code == 200)
    entry = stored(assessment, "self", "B1")
    assert entry.points == Decimal(winner) and entry.version == 2


def test_json_numbers_are_accepted_as_the_decimal_sent(filing):
    assessment, client = filing
    resp = client.put(entry_url(assessment, "self", "B2"), {"points": 30.5}, format="json")
    assert resp.status_code == 200 and resp.json()["points"] == "30.5"
    resp = client.put(entry_url(assessment, "self", "B3"), {"points": 18}, format="json")
    assert resp.status_code == 200 and stored(assessment, "self", "B3").points == Decimal("18")
    resp = client.put(entry_url(assessment, "self", "B3"), {"points": 18.25}, format="json")
    assert resp.status_code == 400 and "一位小数" in str(resp.json())
