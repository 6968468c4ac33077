"""Complaints routes added after the shared table (issue #12): the finance center's disclosure page
(whether its district publishes the blacklist through the public API). Only the finance center of the
district (and the administrator, who names a district: 400 without one) may see or switch it; another
district is a 404; everyone else is refused (403)."""

from __future__ import annotations

from ..table import R, g, with_district

TABLE: dict[str, R] = {
    "complaints:disclosure": R(with_district(), get=g("- C", fc="ok nf"), post=g("- C", fc="ok nf"),
                               body={"publish": "1"}),
}
