"""Warm the results figures' cache when a district's results change, so the first officer to look does not wait."""

from __future__ import annotations

from institutions.models import District

from . import data


def warm_district(year: int, district_id: int) -> int:
    """The district's colours, ranking, distribution, items and trend for the year; returns how many figures."""
    district = District.objects.filter(pk=district_id).first()
    if district is None:
        return 0
    q = data.DistrictQuery(district, year)
    for figure in data.RESULTS_FIGURES:
        data.DISTRICT_FIGURES[figure](q)
    return len(data.RESULTS_FIGURES)
