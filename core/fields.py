"""Model fields shared by the apps."""

from __future__ import annotations

import orjson
from django.db import models


class JSONTextField(models.TextField):
    """A JSON value kept as compact text (a dict or list in Python, None as NULL).

    For values the portal writes and reads in bulk but never queries into: PostgreSQL hands a
    text column over as it is stored, where `jsonb` formats every number of every document again on
    each read (issue 16: two thirds of the time of reading a batch's 6,120 sheet sums went to
    that output). Lookups into the value (`field__key`) are not available; use `JSONField` for
    values that are filtered on."""

    description = "JSON kept as text"

    def from_db_value(self, value, expression, connection):
        return self.to_python(value)

    def to_python(self, value):
        if value is None or not isinstance(value, (str, bytes)):
            return value
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value  # not JSON (written behind the portal's back): the readers refuse it

    def get_prep_value(self, value):
        if value is None:
            return None
        return orjson.dumps(value).decode()

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else orjson.dumps(value).decode()
