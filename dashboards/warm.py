"""Warm the results figures' cache when results change, so the first officer to look does not wait."""

from __future__ import annotations

from . import data, selectors

LIVE = ("complaints", "satisfaction", "violations", "acknowledgements")


def warm_live() -> int:
    """Recompute the activity figures (complaints, satisfaction, violations, warnings) of every district
    for the current year and overwrite them in the cache, so that readers never wait for them."""
    from django.utils import timezone

    year, count = timezone.localdate().year, 0
    token = data.REFRESH.set(True)
    try:
        for district in selectors.districts_with_institutions():
            q = data.DistrictQuery(district, year)
            for figure in LIVE:
                data.DISTRICT_FIGURES[figure](q)
            count += 1
    finally:
        data.REFRESH.reset(token)
    return count


def warm_year(year: int) -> int:
    """Every district with institutions: ranking, colours, distribution, items, trend; returns how many."""
    count = 0
    for district in selectors.districts_with_institutions():
        q = data.DistrictQuery(district, year)
        for figure in ("colours", "distribution", "items", "trend"):
            data.DISTRICT_FIGURES[figure](q)
        count += 1
    return count
