"""THE TABLE: for every route, what each role gets for each target (DOMAIN.md is the truth).

Roles (world.ROLES): anon, fc = finance_center of 路桥, insp / tp = inspector / third party of 路桥
assigned institution A, disc = discipline of 路桥, api = api_client of 路桥, city = city user of
台州市 (both districts), filer / head / emp = filer, head and employee of A, su = superuser.

Targets: A = the users' own institution (路桥), B = another institution of 路桥, C = an institution
of 椒江. A suffix names the stage of the object's year (DOMAIN.md, "Results are seen in stages"):
none = OPEN (before the notice period), n = NOTICE, p = PUBLISHED; Af / Cf = a complaint forwarded to
the discipline commission (A, B, C alone: one referred to the institution). For routes without an
object: "-" = no parameter, C = `?district=331002` (or a body naming 椒江). "priv" = a warning not
marked public, asked for on a public route.

Tokens (runner.ACCEPT):
  ok       the role's business: reads 2xx (or a redirect), writes past the authorization (2xx/3xx,
           or 400/409 for the minimal body or the object's state)
  login    sent to log in (pages, admin) or 401 (API)
  nf       404, exactly: another district's object, another institution's for institution users,
           anything before its stage
  deny     403, exactly
  no       403 or 404: the role may not use the route at all, refused before the object counts
           (a 403 there must also be the answer for an object that does not exist: checked)
  refused  a write refused inside the role's scope: 403 / 400 / 409 / 404 or a page's redirect back
           with an error message, the database unchanged
  pick     400: several districts and none named (the API)
  choose   the same on a page: a district chooser (200) or a 400, never an error
  -        not asked

Every refused write (and every write answered 4xx) is followed by a database check (runner.py).
Where the app answers otherwise than DOMAIN.md requires, the cell stays as DOMAIN.md says and is
listed in KNOWN_GAPS (gaps.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from .world import JIAOJIANG, LUQIAO, NOTICE, OPEN, PUBLISHED, ROLES

# --- building cells ------------------------------------------------------------------------------

ALIASES = {
    "reviewers": ("insp", "tp"),  # inspector and third party, both assigned A
    "readers": ("disc", "api"),  # see published results of their district
    "district": ("insp", "tp", "disc", "api"),  # 路桥's district-wide roles other than the finance center
    "inst": ("filer", "head"),
    "staffless": ("insp", "tp", "disc", "api", "city", "emp"),  # not admin staff
}


def g(targets: str, default: str = "no", **roles: str) -> dict[str, dict[str, str]]:
    """role -> target -> token. Each value is one token for every target or one per target; anon
    defaults to "login" and su to "ok"; keyword arguments apply in order (aliases first, say)."""
    names = targets.split()
    spec = {role: default for role in ROLES}
    spec["anon"], spec["su"] = "login", "ok"
    for key, value in roles.items():
        for role in ALIASES.get(key, (key,)):
            spec[role] = value
    out = {}
    for role, value in spec.items():
        tokens = value.split()
        if len(tokens) == 1:
            tokens *= len(names)
        assert len(tokens) == len(names), f"{role}: {value!r} does not fit targets {targets!r}"
        out[role] = dict(zip(names, tokens, strict=True))
    return out


def public(targets: str = "-") -> dict:
    return g(targets, "ok", anon="ok")


@dataclass
class R:
    url: Callable  # (world, route key, target) -> path
    get: dict | None = None
    post: dict | None = None
    put: dict | None = None
    body: Callable | dict | None = None  # (world, target) -> data, or a fixed dict
    public: bool = False  # no login needed: nobody's data leaks by being shown (leak scan skipped)
    shows_identity: bool = False  # the identity reveal: shows a complainant's name on purpose

    def methods(self) -> dict[str, dict]:
        return {m: grid for m, grid in (("GET", self.get), ("POST", self.post), ("PUT", self.put)) if grid}

    def data(self, world, target):
        return self.body(world, target) if callable(self.body) else dict(self.body or {})


# --- targets -------------------------------------------------------------------------------------

MISSING = SimpleNamespace(pk=987654321, id=987654321, code="MXNONE", public_code="MXNONEXISTENTCODE000",
                          history_id=987654321, year=OPEN)
SUFFIX = {"": "", "n": "@notice", "p": "@published", "f": "@forwarded"}
YEAR = {"": OPEN, "n": NOTICE, "p": PUBLISHED}


def obj(world, family: str, target: str):
    if target == "X":
        return MISSING
    return world.objs[family + SUFFIX[target[1:]]][target[0]]


def inst(world, target: str):
    return MISSING if target == "X" else world.inst[target[0]]


def year_of(target: str) -> int:
    return OPEN if target == "X" else YEAR.get(target[1:], OPEN)


def district_code(target: str) -> str:
    return {"-": "", "A": LUQIAO, "C": JIAOJIANG, "X": "999999"}[target]


def plain(query: str = "") -> Callable:
    return lambda w, key, t: reverse(key) + query


def district_route(query: str = "", **kwargs) -> Callable:
    """Targets "-" / C: the route without a district, or with `?district=331002`."""

    def url(w, key, t):
        params = [p for p in (query, f"district={district_code(t)}" if t != "-" else "") if p]
        return reverse(key, kwargs=kwargs or None) + ("?" + "&".join(params) if params else "")

    return url


def with_district(query: str = "") -> Callable:
    return district_route(query)


def by(family: str, param: str = "pk", attr: str = "pk", query: str = "", **fixed) -> Callable:
    def url(w, key, t):
        return reverse(key, kwargs={param: getattr(obj(w, family, t), attr), **fixed}) + query

    return url


def by_code(query: str = "", param: str = "code", **fixed) -> Callable:
    return lambda w, key, t: reverse(key, kwargs={param: inst(w, t).code, **fixed}) + query


def by_year(year: int, query: str = "", **fixed) -> Callable:
    return lambda w, key, t: reverse(key, kwargs={"year": year, **fixed}) + query


# --- rows reused by several routes ---------------------------------------------------------------

STAGES = "A B C An Bn Cn Ap Bp Cp"
# Results (points, totals, colours, ranks): the finance center at every stage; the institution's
# filer and head from the notice period; readers and the city once published; nobody else.
RESULTS = dict(
    fc="ok ok nf ok ok nf ok ok nf",
    reviewers="nf",
    readers="nf nf nf nf nf nf ok ok nf",
    city="nf nf nf nf nf nf ok ok ok",
    inst="nf nf nf ok nf nf ok nf nf",
    emp="no nf nf no nf nf no nf nf",
)
# Assessments (the sheets' entries): as results, plus the reviewers' and the institution's own sheets
# at every stage.
ASSESSMENTS = {**RESULTS, "reviewers": "ok nf nf ok nf nf ok nf nf", "inst": "ok nf nf ok nf nf ok nf nf"}
# A write on the open year's self sheet of A / B / C (the filer fills, the head fills and submits).
SELF_SHEET_WRITE = dict(fc="ok ok nf", inst="ok nf nf", reviewers="refused nf nf", readers="nf", city="nf",
                        emp="no nf nf")
# Anything only the finance center (of the object's district) may do or see.
FINANCE_ONLY = dict(fc="ok ok nf")
FINANCE_ONLY_DISTRICT = dict(fc="ok nf")  # targets "-" / C (or A / C)
# Complaints: A B C referred to the institution, Af Cf forwarded to the discipline commission.
CASES = "A B C Af Cf"
CASE_READ = dict(fc="ok ok nf ok nf", disc="nf nf nf ok nf", head="ok nf nf nf nf")


def sheet_csv(w, t):
    return {"file": SimpleUploadedFile("sheet.csv", b"indicator_code,value,note\nB1,39,\n", content_type="text/csv")}


def warning_body(w, t, api=False):
    code = inst(w, t).code
    body = {"title": "矩阵测试警示", "body": "矩阵测试正文", "case_type": "other", "severity": "low",
            "scope": "institution", "institution_code": code, "is_public": False}
    if not api:
        body = {**body, "institution": code}
    return body


# --- pages ---------------------------------------------------------------------------------------

PAGES: dict[str, R] = {
    "home": R(plain(), get=g("-", "ok")),
    "healthz": R(plain(), get=public(), public=True),
    "accounts:first_password": R(plain(), get=g("-", "ok"), post=g("-", "ok"), body={}),

    # scoring
    "scoring:home": R(plain(), get=g("-", "ok")),
    "scoring:year-overview": R(district_route(year=OPEN), get=g("- C", **FINANCE_ONLY_DISTRICT, su="choose ok")),
    "scoring:objections": R(district_route(year=NOTICE), get=g("- C", **FINANCE_ONLY_DISTRICT, su="choose ok")),
    "scoring:year-action": R(by_year(OPEN, action="notice"), post=g("A C", **FINANCE_ONLY_DISTRICT),
                             body=lambda w, t: {"district": district_code(t)}),
    "scoring:assessment": R(by("assessment"), get=g(STAGES, **ASSESSMENTS)),
    "scoring:file-objection": R(by("assessment"), body={"reason": "矩阵申诉"}, post=g(
        "An Bn Cn", fc="refused refused nf", reviewers="refused nf nf", readers="nf", city="nf", inst="ok nf nf",
        emp="no nf nf", su="refused")),
    "scoring:evidence": R(by("evidence"), get=g(
        "A B C", fc="ok ok nf", reviewers="ok nf nf", readers="nf", city="nf", inst="ok nf nf", emp="no nf nf")),
    "scoring:decide-objection": R(by("objection"), post=g("A B C", **FINANCE_ONLY),
                                  body={"upheld": "0", "decision": "矩阵：不成立"}),
    "scoring:reopen-for-objection": R(by("objection"), post=g("A B C", **FINANCE_ONLY),
                                      body={"source": "self", "reason": "矩阵更正"}),
    "scoring:sheet": R(by("assessment", source="self"), get=g(STAGES, **ASSESSMENTS),
                       post=g("A B C", **SELF_SHEET_WRITE), body={"value_B1": "39", "note_B1": "矩阵"}),
    "scoring:submit": R(by("assessment", source="self"), get=g(
        "A B C", fc="ok ok nf", reviewers="ok nf nf", inst="ok nf nf", readers="nf", city="nf", emp="no nf nf"),
        post=g("A B C", **SELF_SHEET_WRITE | {"filer": "refused nf nf"})),
    "scoring:return": R(by("assessment", source="self"), post=g(
        "A B C", fc="ok ok nf", reviewers="refused nf nf", inst="refused nf nf", readers="nf", city="nf",
        emp="no nf nf"), body={"reason": "矩阵退回"}),
    "scoring:template": R(by("assessment", source="self"), get=g(
        "A B C", fc="ok ok nf", reviewers="ok nf nf", inst="ok nf nf", readers="nf", city="nf", emp="no nf nf")),
    "scoring:upload": R(by("assessment", source="self"), post=g("A B C", **SELF_SHEET_WRITE), body=sheet_csv),

    # staff points: portraits are personal data (the employee, their institution's head, the district's
    # finance center); recording is the institution's and the center's, confirming the head's and the center's.
    "staff_points:my-portrait": R(plain(), get=g("-", "no", emp="ok", su="no")),
    "staff_points:portrait": R(by("employee"), get=g(
        "A B C", fc="ok ok nf", district="no no nf", city="no", head="ok nf nf", filer="no nf nf", emp="ok nf nf")),
    "staff_points:record-points": R(by("employee"), post=g(
        "A B C", fc="ok ok nf", district="refused refused nf", city="refused", inst="ok nf nf",
        emp="refused nf nf"), body=lambda w, t: {"date": "2020-01-02", "kind": "deduction",
                                                 "violation_code": "MXV1"}),
    "staff_points:confirm-exemplar": R(by("employee"), post=g(
        "A B C", fc="ok ok nf", district="refused refused nf", city="refused", head="ok nf nf",
        filer="refused nf nf", emp="refused nf nf")),
    "staff_points:staff-points": R(plain(), get=g("-", "no", inst="ok", su="no")),
    "staff_points:blacklist": R(plain(), get=g("-", "no", fc="ok", inst="ok")),
    "staff_points:decide-blacklist": R(by("blacklistentry"), post=g("A B C", **FINANCE_ONLY | {
        "inst": "refused nf nf", "emp": "refused nf nf"}),
                                       body={"confirm": "0", "reason": "矩阵驳回"}),

    # complaints: public pages (the receipt code, the public code or the link token is the key)
    "complaints:track": R(plain(), get=public(), post=public("A B C"), public=True,
                          body=lambda w, t: {"code": w.extra["receipt"][t]}),
    "complaints:receipt-image": R(plain(), post=public(), public=True,
                                  body=lambda w, t: {"t": w.extra["receipt_token"]}),
    "complaints:public-form": R(by("institution", param="public_code", attr="public_code"), get=public("A B C"),
                                post=public("A B C"), public=True, body={"kind": "suggestion"}),
    "complaints:qr": R(by("institution", param="public_code", attr="public_code", fmt="svg"), get=public("A B C"),
                       public=True),
    "complaints:survey": R(by("institution", param="public_code", attr="public_code"), get=public("A B C"),
                           post=public("A B C"), public=True, body={}),
    "complaints:survey-link": R(lambda w, key, t: reverse(key, kwargs={"token": w.extra["survey_token"][t]}),
                                get=public("A B C"), post=public("A B C"), public=True, body={}),
    # complaints: staff (finance center: its districts; discipline: forwarded to it; head: referred to
    # the institution; city users never see an individual complaint)
    "complaints:queue": R(with_district(), get=g("- C", fc="ok nf", disc="ok nf", head="ok nf")),
    "complaints:case-detail": R(by("complaint"), get=g(CASES, **CASE_READ)),
    "complaints:case-action": R(by("complaint", action="conclude"), post=g(
        CASES, fc="ok ok nf ok nf", disc="nf nf nf ok nf", head="refused nf nf nf nf"),
        body={"outcome": "substantiated"}),
    "complaints:case-note": R(by("complaint"), post=g(CASES, **CASE_READ), body={"body": "矩阵备注"}),
    "complaints:case-reveal": R(by("complaint"), shows_identity=True, post=g(
        CASES, fc="ok ok nf ok nf", disc="nf nf nf refused nf", head="refused nf nf nf nf"),
        body={"reason": "矩阵核实身份"}),
    "complaints:case-image": R(by("complaint", position=1), get=g(
        CASES, fc="ok ok nf ok nf", disc="nf nf nf ok nf", head="no nf nf nf nf")),
    # The sealed original (with its GPS): the finance center's, with a logged reason, like the reveal.
    "complaints:case-image-original": R(by("complaint", position=1), shows_identity=True, post=g(
        CASES, fc="ok ok nf ok nf", disc="nf nf nf refused nf", head="refused nf nf nf nf"),
        body={"reason": "矩阵调取原件"}),
    "complaints:stats": R(with_district(), get=g("- C", fc="ok nf", city="ok", head="ok nf")),
    "complaints:stats-export": R(with_district("format=csv"), get=g("- C", fc="ok nf", city="ok", head="ok nf"),
                                 post=g("- C", fc="ok nf", city="ok", head="ok nf"), body={}),
    "complaints:posters-all": R(with_district(), get=g("- C", fc="ok nf"), post=g("- C", fc="ok nf"), body={}),
    "complaints:poster": R(by_code(), get=g("A B C", fc="ok ok nf", district="ok ok nf", city="ok",
                                            inst="ok nf nf", emp="ok nf nf")),
    "complaints:survey-links": R(plain(), get=g("-", fc="ok", inst="ok"),
                                 post=g("A B C", fc="ok ok nf", inst="ok nf nf"),
                                 body=lambda w, t: {"institution": inst(w, t).code, "count": "1"}),

    # warnings: an institution's warning reaches its employees, filer and head, the district's
    # district-wide roles and the city (masked names: no personal data); managing is the finance
    # center's and the heads' (their own institution)
    "warnings_feed:feed": R(plain(), get=g("-", "ok")),
    "warnings_feed:detail": R(by("warning"), get=g(
        "A B C", fc="ok ok nf", district="ok ok nf", city="ok", inst="ok nf nf", emp="ok nf nf")),
    "warnings_feed:acknowledge": R(by("warning"), post=g(
        "A B C", fc="refused refused nf", district="refused refused nf", city="refused", inst="refused nf nf",
        emp="ok nf nf", su="refused")),
    "warnings_feed:manage": R(plain(), get=g("-", fc="ok", head="ok"),
                              post=g("A B C", fc="ok ok refused", head="ok refused refused"), body=warning_body),
    "warnings_feed:manage_detail": R(by("warning"), get=g("A B C", fc="ok ok nf", head="ok nf nf")),
    "warnings_feed:public_list": R(plain(), get=public(), public=True),
    "warnings_feed:public_detail": R(
        lambda w, key, t: reverse(key, kwargs={"pk": (w.objs["warning"]["A"] if t == "priv"
                                                      else obj(w, "warning@public", t)).pk}),
        get=g("A C priv", "ok ok nf", anon="ok ok nf", su="ok ok nf"), public=True),
    "warnings_feed:public_atom": R(plain(), get=public(), public=True),

    # dashboards: the district's for its finance center; an institution's for the center and its
    # head; the city roll-up for city users only
    "dashboards:index": R(plain(), get=g("-", fc="ok", city="ok", head="ok")),
    "dashboards:district": R(with_district(), get=g("- C", **FINANCE_ONLY_DISTRICT)),
    "dashboards:district-rows": R(district_route(figure="ranking"), get=g("- C", **FINANCE_ONLY_DISTRICT)),
    "dashboards:institution": R(by_code(f"?year={OPEN}"), get=g("A B C", fc="ok ok nf", head="ok nf nf")),
    # (a district's finance center gets nothing of another district: not the city's roll-up either)
    "dashboards:city": R(plain(), get=g("-", city="ok")),
    "dashboards:reports": R(plain(), get=g("-", fc="ok"), post=g("A C", **FINANCE_ONLY_DISTRICT),
                            body=lambda w, t: {"district": district_code(t), "year": str(PUBLISHED)}),
    "dashboards:report": R(by("annualreport"), get=g("A C", **FINANCE_ONLY_DISTRICT)),
    "dashboards:report-file": R(by("annualreport", kind="pdf"), get=g("A C", **FINANCE_ONLY_DISTRICT)),
}

# --- the API -------------------------------------------------------------------------------------

API: dict[str, R] = {
    "api:root": R(plain(), get=g("-", "ok")),
    "api:me": R(plain(), get=g("-", "ok")),
    "api:token": R(plain(), post=public(), public=True,
                   body={"username": "mx_filer", "password": "Pass-word-123"}),
    "api:institution-list": R(with_district(), get=g("- C", "ok nf", city="ok")),
    "api:institution-detail": R(by_code(), get=g("A B C", "ok ok nf", city="ok", inst="ok nf nf",
                                                 emp="ok nf nf")),
    # norms and schemes: everyone of the district (the caller's own district's; a city user or the
    # administrator, holding several, names one)
    "api:norms-detail": R(district_route(year=OPEN), get=g("- C", "ok nf", city="pick ok", su="pick ok")),
    "api:scheme-detail": R(district_route(year=OPEN), get=g("- C", "ok nf", city="pick ok", su="pick ok")),
    "api:score-list": R(with_district(), get=g("- C", "ok nf", city="ok")),
    "api:score-export": R(with_district(f"year={OPEN}&format=csv"), get=g("- C", "ok nf", city="ok")),
    "api:score-detail": R(lambda w, key, t: reverse(key, kwargs={"year": year_of(t), "code": inst(w, t).code}),
                          get=g(STAGES, **RESULTS)),
    "api:assessment-list": R(with_district(), get=g("- C", "ok nf", city="ok")),
    "api:assessment-detail": R(by("assessment"), get=g(STAGES, **ASSESSMENTS)),
    "api:sheet-entry": R(by("assessment", source="self", indicator_code="B1"), put=g("A B C", **SELF_SHEET_WRITE),
                         body={"points": "39", "note": "矩阵"}),
    "api:sheet-submit": R(by("assessment", source="self"), post=g("A B C", **SELF_SHEET_WRITE | {
        "filer": "refused nf nf"})),
    "api:sheet-return": R(by("assessment", source="self"), post=g("A B C", **FINANCE_ONLY),
                          body={"reason": "矩阵退回"}),
    "api:aggregation-list": R(plain(), post=g("A C", **FINANCE_ONLY_DISTRICT),
                              body=lambda w, t: {"year": OPEN, "district": district_code(t)}),
    "api:year-notice": R(by_year(OPEN), post=g("A C", **FINANCE_ONLY_DISTRICT),
                         body=lambda w, t: {"district": district_code(t)}),
    "api:year-publish": R(by_year(NOTICE), post=g("A C", **FINANCE_ONLY_DISTRICT),
                          body=lambda w, t: {"district": district_code(t)}),
    "api:aggregation-detail": R(by("aggregationrun"), get=g("A C", **FINANCE_ONLY_DISTRICT)),
    "api:public-blacklist": R(plain(), get=public(), public=True),
    "api:public-complaint-submit": R(plain(), post=public("A B C"), public=True, body=lambda w, t: {
        "institution_code": inst(w, t).code, "kind": "suggestion", "description": "矩阵建议", "anonymous": True}),
    "api:public-complaint-status": R(lambda w, key, t: reverse(key, kwargs={"receipt_code": w.extra["receipt"][t]}),
                                     get=public("A B C"), public=True),
    "api:complaint-list": R(with_district(), get=g("- C", fc="ok nf", disc="ok nf", head="ok nf")),
    "api:complaint-stats": R(with_district(), get=g("- C", fc="ok nf", city="ok", head="ok nf")),
    "api:complaint-detail": R(by("complaint"), get=g(CASES, **CASE_READ)),
    "api:complaint-notes": R(by("complaint"), post=g(CASES, **CASE_READ), body={"body": "矩阵备注"}),
    "api:complaint-perform": R(by("complaint", action_name="conclude"), post=g(
        CASES, fc="ok ok nf ok nf", disc="nf nf nf ok nf", head="refused nf nf nf nf"),
        body={"outcome": "substantiated"}),
    "api:complaint-reveal": R(by("complaint"), shows_identity=True, post=g(
        CASES, fc="ok ok nf ok nf", disc="nf nf nf refused nf", head="refused nf nf nf nf"),
        body={"reason": "矩阵核实身份"}),
    "api:warning-list": R(plain(), get=g("-", "ok"), post=g(
        "A B C", "refused", fc="ok ok refused", head="ok refused refused"), body=lambda w, t: warning_body(w, t, True)),
    "api:warning-rates-by-institution": R(plain(), get=g("-", fc="ok", head="ok")),
    "api:warning-detail": R(by("warning"), get=PAGES["warnings_feed:detail"].get),
    "api:warning-acknowledge": R(by("warning"), post=PAGES["warnings_feed:acknowledge"].post),
    "api:warning-rates": R(by("warning"), get=g("A B C", fc="ok ok nf", head="ok nf nf")),
    "api:public-warning-list": R(plain(), get=public(), public=True),
    "api:public-warning-detail": R(PAGES["warnings_feed:public_detail"].url,
                                   get=PAGES["warnings_feed:public_detail"].get, public=True),
    "api:dashboards-city-league": R(plain(), get=g("-", city="ok")),
    "api:dashboards-city-trend": R(plain(), get=g("-", city="ok")),
    "api:dashboards-report-list": R(plain(), get=g("-", fc="ok"), post=g("A C", **FINANCE_ONLY_DISTRICT),
                                    body=lambda w, t: {"district": district_code(t), "year": PUBLISHED}),
    "api:dashboards-report-detail": R(by("annualreport"), get=g("A C", **FINANCE_ONLY_DISTRICT)),
    "api:dashboards-report-pdf": R(by("annualreport"), get=g("A C", **FINANCE_ONLY_DISTRICT)),
    "api:dashboards-report-xlsx": R(by("annualreport"), get=g("A C", **FINANCE_ONLY_DISTRICT)),
}
for figure in ("colours", "ranking", "distribution", "items", "trend", "complaints", "satisfaction", "violations",
               "acknowledgements"):
    API[f"api:dashboards-district-{figure}"] = R(with_district(f"year={OPEN}"),
                                                  get=g("- C", **FINANCE_ONLY_DISTRICT, su="pick ok"))
API["api:dashboards-district-rows"] = R(district_route(figure="ranking", query=f"year={OPEN}"),
                                        get=g("- C", **FINANCE_ONLY_DISTRICT, su="pick ok"))
for figure in ("history", "items", "complaints", "employees"):
    API[f"api:dashboards-institution-{figure}"] = R(by_code(f"?year={OPEN}"),
                                                     get=g("A B C", fc="ok ok nf", head="ok nf nf"))

# --- the admin -----------------------------------------------------------------------------------


@dataclass
class AdminModel:
    """What each admin staff role may do with a model (v view, a add, c change, d delete) inside its
    scope; roles that are not staff are sent to the admin's login. Scope: fc the targets of 路桥
    (A, B), filer and head A only, "-" (installation rows) everyone; `scope` overrides per role."""

    family: str
    targets: str
    fc: str = ""
    filer: str = ""
    head: str = ""
    su: str = "vacd"
    scope: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)  # "view" or "view:METHOD" -> role -> tokens (overrides)


def _in_scope(role: str, target: str, model: AdminModel) -> bool:
    if target == "-" or role == "su":
        return True
    if role in model.scope:
        return target in model.scope[role].split()
    return target[0] in ("A", "B") if role == "fc" else target[0] == "A"


def _admin_token(role: str, target: str, action: str, model: AdminModel, first: bool = True) -> str:
    """Staff without any right on the model: refused at the door ("no"); in scope: allowed or 403 by
    the right the action needs; out of scope: 404 where the action would be allowed, else "no".
    Users who are not staff (and visitors) never get past the admin's door, whatever the object: they
    are asked once per route and method (the first target)."""
    if role in ALIASES["staffless"] or role == "anon":
        return "login" if first else "-"
    rights = getattr(model, role)
    needed = {"view": "vc", "add": "a", "change": "c", "delete": "d"}[action]
    allowed = bool(set(needed) & set(rights))
    if not rights:
        return "no"
    if not _in_scope(role, target, model):
        return "nf" if allowed else "no"
    return "ok" if allowed else "deny"


def admin_grid(model: AdminModel, targets: str, view: str, method: str = "GET") -> dict:
    action = {"changelist": "view", "history": "view"}.get(view, view)
    if view == "change" and method == "GET":
        action = "view"
    names = targets.split()
    grid = {role: {t: _admin_token(role, t, action, model, t == names[0]) for t in names} for role in ROLES}
    for key in (view, f"{view}:{method}"):
        for name, tokens in model.cells.get(key, {}).items():
            override = g(targets, **{name: tokens})
            for role in ALIASES.get(name, (name,)):
                grid[role] = override[role]
    return grid


def admin_routes(name: str, model: AdminModel) -> dict[str, R]:
    family, targets = model.family, model.targets
    single = "-"

    def change_url(view):
        return lambda w, key, t: reverse(key, args=[obj(w, family, t).pk])


    return {
        f"admin:{name}_changelist": R(plain(), get=admin_grid(model, single, "changelist")),
        f"admin:{name}_add": R(plain(), get=admin_grid(model, single, "add"),
                               post=admin_grid(model, single, "add", "POST"), body={}),
        f"admin:{name}_change": R(change_url("change"), get=admin_grid(model, targets, "change"),
                                  post=admin_grid(model, targets, "change", "POST"), body={}),
        f"admin:{name}_delete": R(change_url("delete"), get=admin_grid(model, targets, "delete"),
                                  post=admin_grid(model, targets, "delete", "POST"), body={"post": "yes"}),
        f"admin:{name}_history": R(change_url("history"), get=admin_grid(model, targets, "history")),
    }


ABC, AC, ONE = "A B C", "A C", "-"
TEMPLATES_ONLY = {"filer": "-", "head": "-"}
RESULT_SCOPE = {"filer": "An Ap", "head": "An Ap", "fc": "A B An Bn Ap Bp"}
ADMIN_MODELS: dict[str, AdminModel] = {
    # Django's and the libraries' models: the installation administrator's.
    "auth_group": AdminModel("group", ONE),
    "auth_user": AdminModel("user", AC),
    "authtoken_tokenproxy": AdminModel("tokenproxy", ONE),
    "axes_accessattempt": AdminModel("accessattempt", ONE, su="vcd"),
    "axes_accesslog": AdminModel("accesslog", ONE, su="vcd"),
    "axes_accessfailurelog": AdminModel("accessfailurelog", ONE, su="vcd"),
    # The mail outbox (mails of every district, personal data in bodies): the administrator reads it.
    "core_outgoingmail": AdminModel("outgoingmail", ONE, su="v"),
    # Tasks waiting for the broker (arguments of every district): the administrator's too.
    "core_queuedtask": AdminModel("queuedtask", ONE, su="v"),
    # The registry. Districts are reference data (codes of the administrative divisions): readable.
    "institutions_district": AdminModel("district", AC, fc="v", scope={"fc": "A C"},
                                        cells={v: {"inst": "deny"} for v in ("change", "delete", "history")}),
    "institutions_institution": AdminModel("institution", ABC, fc="vacd", filer="v", head="v"),
    # (An employee with records: deleting them needs rights on the records too, which nobody has.)
    "institutions_employee": AdminModel("employee", ABC, fc="vacd", filer="vac", head="v",
                                        cells={"delete:POST": {"fc": "refused refused nf"}}),
    "institutions_membership": AdminModel("membership", ABC, fc="vacd"),
    "institutions_districtgrant": AdminModel("districtgrant", AC, su="vad"),
    "accounts_passwordchangerequired": AdminModel("passwordchangerequired", ABC, fc="vd", su="vd"),
    # Scoring: district-owned rows (norms, scheme, indicators, runs, years, events) and the
    # institutions' rows; results are written by the aggregation only and never edited by hand.
    # (Institution users may read norms and schemes, in the admin only the installation's templates.)
    "scoring_norms": AdminModel("norms", AC, fc="vacd", filer="v", head="v", scope=TEMPLATES_ONLY),
    "scoring_normclause": AdminModel("normclause", AC, fc="vacd"),
    "scoring_scheme": AdminModel("scheme", AC, fc="vacd", filer="v", head="v", scope=TEMPLATES_ONLY),
    "scoring_indicator": AdminModel("indicator", AC, fc="vacd", filer="v", head="v", scope=TEMPLATES_ONLY),
    # (An assessment with sheets, entries and objections: deleting it needs rights on those, which
    # nobody has: they are the services' rows.)
    "scoring_assessment": AdminModel("assessment", ABC, fc="vacd",
                                     cells={"delete:POST": {"fc": "refused refused nf",
                                                            "su": "refused refused refused"}}),
    "scoring_assignment": AdminModel("assignment", ABC, fc="vacd"),
    "scoring_result": AdminModel("result", STAGES, fc="v", filer="v", head="v", su="v", scope=RESULT_SCOPE),
    "scoring_aggregationrun": AdminModel("aggregationrun", AC, fc="vcd", su="vcd"),  # every field read-only
    "scoring_districtyear": AdminModel("districtyear", AC, fc="v", su="vd"),
    "scoring_objection": AdminModel("objection", ABC, fc="v", su="v"),  # made by the services only
    "scoring_schemeevent": AdminModel("schemeevent", AC, fc="vcd", su="vcd"),
    "scoring_assessmentevent": AdminModel("assessmentevent", ABC, fc="vcd", su="vcd"),
    "scoring_evidence": AdminModel("evidence", ABC, fc="v", su="v"),  # made by the services only
    "scoring_sheetentry": AdminModel("sheetentry", ABC, fc="v", su="v"),  # made by the services only
    # Complaints: the finance center reads its districts' cases; nobody edits a case in the admin.
    "complaints_holidayyear": AdminModel("holidayyear", ONE, fc="v"),
    "complaints_complaint": AdminModel("complaint", CASES, fc="v", su="v",
                                       scope={"fc": "A B Af"}),
    "complaints_piireveal": AdminModel("piireveal", ABC, fc="v", su="v"),
    "complaints_notification": AdminModel("notification", ABC, fc="v", su="v"),
    "complaints_retiredpubliccode": AdminModel("retiredpubliccode", ABC, fc="v", su="v"),
    "complaints_institutionposter": AdminModel("institution", ABC, fc="vc", su="vc"),
    "complaints_questionnaire": AdminModel("questionnaire", ONE, fc="v"),
    "complaints_surveybatch": AdminModel("surveybatch", ABC, fc="v", su="v"),
    "complaints_surveyresponse": AdminModel("surveyresponse", ABC, fc="v", su="v"),
    # Warnings: the finance center publishes in its districts.
    "warnings_feed_warning": AdminModel("warning", ABC, fc="vacd"),
    # Staff points: no role has model permissions (pages and services decide).
    "staff_points_violationtype": AdminModel("violationtype", ONE),
    "staff_points_pointrecord": AdminModel("pointrecord", ABC),
    "staff_points_blacklistentry": AdminModel("blacklistentry", ABC, su="vcd"),
    "staff_points_portraitview": AdminModel("portraitview", ABC, su="vcd"),
    "staff_points_exemplar": AdminModel("exemplar", ABC),
    # Annual reports: requested and read by the finance center of the district.
    "dashboards_annualreport": AdminModel("annualreport", AC, fc="va", su="vad"),
}
ADMIN: dict[str, R] = {}
for _name, _model in ADMIN_MODELS.items():
    ADMIN.update(admin_routes(_name, _model))


def _history_form(family: str, history_family: str) -> Callable:
    def url(w, key, t):
        row = obj(w, history_family, t)
        return reverse(key, args=[obj(w, family, t).pk, row.history_id])

    return url


STAFFLESS_LOGIN = {"staffless": "login"}


def export_body(module: str, resource: str) -> dict:
    """The admin's export form as a browser posts it: CSV (the second format: XLSX, CSV), every field
    ticked; the file comes back readable, so that the leak scan reads what the export holds."""
    from importlib import import_module

    cls = getattr(import_module(module), resource)
    fields = {f"{cls.__name__.lower()}_{name}": "on" for name in cls().get_export_order()}
    return {"resource": "0", "format": "1", **fields}
ADMIN.update({
    # The autocomplete lists users (the employees' and memberships' login field): the administrator's.
    "admin:autocomplete": R(plain("?app_label=institutions&model_name=membership&field_name=user&term=mx"),
                            get=g("-", "no", **STAFFLESS_LOGIN)),
    "admin:auth_user_password_change": R(lambda w, key, t: reverse(key, args=[obj(w, "user", t).pk]),
                                         get=g(AC, "no", **STAFFLESS_LOGIN), post=g(AC, "no", **STAFFLESS_LOGIN),
                                         body={}),
    # Imports and exports of the registry: the finance center (its districts), institutions their
    # employees; an export holds only the user's scope.
    "admin:institutions_institution_import": R(plain(), get=g("-", "no", fc="ok", **STAFFLESS_LOGIN)),
    "admin:institutions_institution_process_import": R(plain(), post=g("-", "no", fc="ok", **STAFFLESS_LOGIN),
                                                       body={}),
    "admin:institutions_institution_export": R(plain(), get=g("-", "no", fc="ok", inst="ok", **STAFFLESS_LOGIN),
                                               post=g("-", "no", fc="ok", inst="ok", **STAFFLESS_LOGIN),
                                               body=lambda w, t: export_body("institutions.resources",
                                                                             "InstitutionResource")),
    "admin:institutions_employee_import": R(plain(), get=g("-", "no", fc="ok", inst="ok", **STAFFLESS_LOGIN)),
    "admin:institutions_employee_process_import": R(plain(), post=g("-", "no", fc="ok", inst="ok",
                                                                    **STAFFLESS_LOGIN), body={}),
    "admin:institutions_employee_export": R(plain(), get=g("-", "no", fc="ok", inst="ok", **STAFFLESS_LOGIN),
                                            post=g("-", "no", fc="ok", inst="ok", **STAFFLESS_LOGIN),
                                            body=lambda w, t: export_body("institutions.resources",
                                                                          "EmployeeResource")),
    "admin:staff_points_pointrecord_import": R(plain(), get=g("-", "no", **STAFFLESS_LOGIN)),
    "admin:staff_points_pointrecord_process_import": R(plain(), post=g("-", "no", **STAFFLESS_LOGIN), body={}),
    "admin:staff_points_pointrecord_export": R(plain(), get=g("-", "no", **STAFFLESS_LOGIN)),
    # (the scheme import sends those who may not add a scheme back to the admin's index)
    "admin:scoring_scheme_import": R(plain(), get=g("-", "no", fc="ok", inst="refused", **STAFFLESS_LOGIN),
                                     post=g("-", "no", fc="ok", inst="refused", **STAFFLESS_LOGIN), body={}),
    # simple_history's form of one historical version: as the object's own change page.
    "admin:institutions_institution_simple_history": R(
        _history_form("institution", "institution_history"),
        get=g(ABC, "no", fc="ok ok nf", inst="ok nf nf", **STAFFLESS_LOGIN)),
    "admin:institutions_employee_simple_history": R(
        _history_form("employee", "employee_history"),
        get=g(ABC, "no", fc="ok ok nf", inst="ok nf nf", **STAFFLESS_LOGIN)),
    "admin:institutions_membership_simple_history": R(
        _history_form("membership", "membership_history"), get=g(ABC, "no", fc="ok ok nf", **STAFFLESS_LOGIN)),
    "admin:institutions_districtgrant_simple_history": R(
        _history_form("districtgrant", "districtgrant_history"), get=g(AC, "no", **STAFFLESS_LOGIN)),
})

TABLE: dict[str, R] = {**PAGES, **API, **ADMIN}

from tests.access_matrix import plugins  # noqa: E402  (the apps' own tables import this module's helpers)

_PLUGGED = plugins.tables()
assert not set(_PLUGGED) & set(TABLE), f"plugin routes already in the table: {set(_PLUGGED) & set(TABLE)}"
TABLE.update(_PLUGGED)
