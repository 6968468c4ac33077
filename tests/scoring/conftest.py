"""Fixtures shared by the scoring tests: contract files, command runners, users and complaint counts."""

from __future__ import annotations

import importlib.util
import uuid
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from scoring import services
from tests.factories import InstitutionFactory, UserFactory, institution_user

from .factories import build_scheme

DATA = Path(__file__).parent / "data"
WORKED_YEAR = 2030  # the year in the contract's worked_example_scores.csv
SHANGHAI = ZoneInfo("Asia/Shanghai")


def data_file(name: str) -> str:
    return str(DATA / name)


def write_csv(tmp_path: Path, name: str, header: str, rows: list[str]) -> str:
    path = tmp_path / name
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def worked_score_rows(*, skip_source: str | None = None, override: dict | None = None) -> tuple[str, list[str]]:
    """The contract's score rows, optionally without one source or with some values replaced.

    `override` maps (source, indicator_code) to the new value text.
    """
    lines = (DATA / "worked_example_scores.csv").read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0], [line for line in lines[1:] if line.strip()]
    out = []
    for row in rows:
        year, code, source, indicator, value, note = row.split(",")
        if source == skip_source:
            continue
        value = (override or {}).get((source, indicator), value)
        out.append(",".join([year, code, source, indicator, value, note]))
    return header, out


def import_worked_scheme_and_institution() -> None:
    call_command("import_institutions", data_file("worked_example_institutions.csv"))
    call_command("import_scheme", "--year", str(WORKED_YEAR), data_file("worked_example_norms.csv"),
                 data_file("worked_example_indicators.csv"), "--activate")


def decimal_strings(row: dict, *fields: str) -> tuple[str, ...]:
    return tuple(row[f] for f in fields)


# --------------------------------------------------------------------------------------------
# complaints: the real selector when the complaints app has it, a stand-in otherwise


def complaints_selector_exists() -> bool:
    try:
        if importlib.util.find_spec("complaints.selectors") is None:
            return False
    except ImportError:
        return False
    module = importlib.import_module("complaints.selectors")
    return hasattr(module, "outcome_counts_by_institution")


class Complaints:
    """Records (partially) substantiated complaints against an institution in a calendar year.

    With `complaints.selectors.outcome_counts_by_institution` present, real concluded Complaint rows
    are written (plus rows that must NOT count: an unsubstantiated one and one received just after
    the year ends, Asia/Shanghai); without it, `scoring.services.complaint_counts` is replaced by a
    stand-in that returns what was recorded, so the scoring side is still tested to the cent.
    """

    def __init__(self, monkeypatch):
        self.real = complaints_selector_exists()
        self.counts: dict[int, dict[int, list[int]]] = {}
        if not self.real:
            monkeypatch.setattr(services, "complaint_counts", lambda year, institutions=None, districts=None: {
                k: tuple(v) for k, v in self.counts.get(year, {}).items()})

    def add(self, institution, year: int, substantiated: int = 0, partial: int = 0) -> None:
        if not self.real:
            counts = self.counts.setdefault(year, {}).setdefault(institution.pk, [0, 0])
            counts[0] += substantiated
            counts[1] += partial
            return
        mid_year = datetime.combine(date(year, 6, 15), time(10), tzinfo=SHANGHAI)
        for _ in range(substantiated):
            self._complaint(institution, mid_year, "substantiated")
        for _ in range(partial):
            self._complaint(institution, mid_year, "partially_substantiated")
        # Neither of these may count: not substantiated; received in the next year in Shanghai
        # (still `year` in UTC, so a UTC-based count would wrongly include it).
        self._complaint(institution, mid_year, "unsubstantiated")
        self._complaint(institution, datetime.combine(date(year + 1, 1, 1), time(0, 30), tzinfo=SHANGHAI),
                        "substantiated")

    @staticmethod
    def _complaint(institution, received_at, outcome):
        from complaints.models import Complaint

        return Complaint.objects.create(
            institution=institution, kind="complaint", status="concluded", outcome=outcome,
            description="测试用投诉：工作人员吃拿卡要", receipt_hash=uuid.uuid4().hex + uuid.uuid4().hex,
            received_at=received_at, deadline_from=received_at.astimezone(SHANGHAI).date(),
            concluded_at=received_at)


@pytest.fixture
def complaints(monkeypatch):
    return Complaints(monkeypatch)


# --------------------------------------------------------------------------------------------
# people and places


@pytest.fixture
def scheme(db):
    """The worked example's scheme, active, for year 2031 (so it never clashes with the imported 2030)."""
    return build_scheme(2031)


@pytest.fixture
def inst_a(db):
    return InstitutionFactory(code="A001", name="甲银行", category="bank")


@pytest.fixture
def inst_b(db):
    return InstitutionFactory(code="B001", name="乙保险", category="insurance")


@pytest.fixture
def finance(db):
    return UserFactory(username="fc", roles=["finance_center"], is_staff=True)


@pytest.fixture
def filer_a(inst_a):
    return institution_user(inst_a, "institution_filer", username="filer_a")


@pytest.fixture
def head_a(inst_a):
    return institution_user(inst_a, "institution_head", username="head_a")


@pytest.fixture
def filer_b(inst_b):
    return institution_user(inst_b, "institution_filer", username="filer_b")


@pytest.fixture
def inspector(db):
    return UserFactory(username="insp", roles=["inspector"])


@pytest.fixture
def third_party_user(db):
    return UserFactory(username="tp", roles=["third_party"])


@pytest.fixture
def api_client_user(db):
    return UserFactory(username="apiclient", roles=["api_client"])


def cents(value: str) -> Decimal:
    """A decimal string from the API as Decimal, refusing anything but exactly two places."""
    assert isinstance(value, str), value
    _whole, _, frac = value.partition(".")
    assert len(frac) == 2, f"{value!r} is not written with two decimals"
    return Decimal(value)
