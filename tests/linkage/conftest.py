"""A scored year of three institutions (green, blue, red by a red line) for the linkage tests."""

from __future__ import annotations

import pytest

from scoring import services
from scoring.models import AggregationRun
from tests.factories import InstitutionFactory, UserFactory
from tests.scoring.factories import WORKED_SHEETS, assessment_for, build_scheme, fill_sheet, luqiao

YEAR = 2036


@pytest.fixture
def finance(db):
    return UserFactory(username="fc_linkage", roles=["finance_center"], is_staff=True)


def scored_year(**scheme_fields):
    scheme = build_scheme(YEAR, **scheme_fields)
    plans = {
        "G001": ("bank", WORKED_SHEETS),
        "U001": ("insurance", {s: {**v, "B1": v["B1"] - 12} for s, v in WORKED_SHEETS.items()}),
        "R001": ("bank", {**WORKED_SHEETS, "inspection": {**WORKED_SHEETS["inspection"], "R1": True}}),
    }
    for code, (category, sheets) in plans.items():
        assessment = assessment_for(InstitutionFactory(code=code, name=f"机构{code}", category=category), scheme)
        for source, values in sheets.items():
            fill_sheet(assessment, source, values)
    services.execute_run(AggregationRun.objects.create(year=YEAR, district=luqiao()).pk)
    return scheme


@pytest.fixture
def scored(db):
    return scored_year()
