"""django-filter pieces shared by every API filterset."""

from __future__ import annotations

import django_filters
from django import forms

from core.years import MAX_YEAR, MESSAGE, MIN_YEAR


class YearField(forms.IntegerField):
    """`?year=` as core.years reads it: 2000–2100, else the one Chinese message (a 400)."""

    default_error_messages = {"invalid": MESSAGE, "min_value": MESSAGE, "max_value": MESSAGE}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", MAX_YEAR)
        super().__init__(**kwargs)


class YearFilter(django_filters.NumberFilter):
    """A year filter: `?year=0`, `-1` or 20 digits is a 400 with the reason, not an empty page."""

    field_class = YearField
