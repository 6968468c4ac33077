"""Warm the results figures' cache when results change, so the first officer to look does not wait."""

from __future__ import annotations

from . import data, selectors


def warm_year(year: int) -> int:
    """Every district with institutions: ranking, colours, distribution, items, trend; returns how many."""
    count = 0
    for district in selectors.districts_with_institutions():
        q = data.DistrictQuery(district, year)
        for figure in ("colours", "distribution", "items", "trend"):
            data.DISTRICT_FIGURES[figure](q)
        count += 1
    return count
