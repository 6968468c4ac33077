"""The dashboards' programme panels (issues #13, #14, #15): the district's rectifications, training
completion and risk summary are its finance center's, like the other district figures (city users,
institutions' users and everyone else: 403; another district: 404); an institution's own
rectifications and training completion are read like its other dashboard figures (the district's
finance center, and the institution's head for their own institution only)."""

from __future__ import annotations

from ..table import FINANCE_ONLY_DISTRICT, OPEN, R, by_code, g, with_district

TABLE: dict[str, R] = {
    **{f"api:dashboards-district-{figure}": R(with_district(f"year={OPEN}"),
                                               get=g("- C", **FINANCE_ONLY_DISTRICT, su="pick ok"))
       for figure in ("rectifications", "trainings", "risk")},
    "api:dashboards-institution-programme": R(by_code(f"?year={OPEN}"), get=g("A B C", fc="ok ok nf", head="ok nf nf")),
}
