"""督查与整改 (DOMAIN.md, "Inspections and rectification"): the finance center and inspectors of the
district record visits and findings and accept or return rectifications; the visited institution's
filer and head see their own visits and findings and report on them; nobody else sees any (404),
and the inspector pages refuse everyone else (403). The plan is the finance center's."""

from __future__ import annotations

import io
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from ..table import AdminModel, R, admin_routes, by, g, plain
from ..world import OPEN

VISITED_ON = date(OPEN, 3, 3)
# Reads of a visit or a finding of A / B / C.
READ = dict(fc="ok ok nf", insp="ok ok nf", inst="ok nf nf", su="ok")
# Inspector writes on A / B / C (finding, photos, bonus; accept and return).
INSPECT = dict(fc="ok ok nf", insp="ok ok nf", inst="deny nf nf", su="ok")
# The institution's report on A / B / C.
REPORT = dict(inst="ok nf nf", fc="deny deny nf", insp="deny deny nf", su="ok")
INSPECTOR_PAGE = dict(fc="ok", insp="ok", su="ok")


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), "blue").save(out, "JPEG")
    return out.getvalue()


def build(w) -> None:
    from inspections import services

    su = w.users["su"]
    visits, findings, reported, photos = {}, {}, {}, {}
    for t, institution in w.inst.items():
        visit = services.record_visit(su, institution, services.VisitInput(visited_on=VISITED_ON, team=["矩阵检查"]),
                                      photos=[SimpleUploadedFile("p.jpg", _jpeg(), content_type="image/jpeg")])
        finding = services.add_finding(visit, su, clause="1.1", description=f"矩阵问题{t}", severity="minor",
                                       rectify_within=5)
        other = services.add_finding(visit, su, clause="1.2", description=f"矩阵已报送{t}", severity="major",
                                     rectify_within=5)
        services.report(other, su, measures="矩阵整改措施",
                        files=[SimpleUploadedFile("证明.pdf", b"%PDF-1.4 mx", content_type="application/pdf")])
        services.notice_pdf(visit)  # archived: reading it renders nothing
        visits[t], findings[t], reported[t] = visit, finding, other
        photos[t] = visit.photos.get()
    w.objs["inspvisit"] = visits
    w.objs["inspfinding"] = findings
    w.objs["inspreported"] = reported
    w.objs["inspphoto"] = photos
    fc_jj = w.users.get("fc_jj") or _finance_of(w.inst["C"])
    w.objs["inspplan"] = {"A": services.create_plan(w.users["fc"], w.inst["A"].district, OPEN),
                          "C": services.create_plan(fc_jj, w.inst["C"].district, OPEN)}


def _finance_of(inst):
    from institutions.models import DistrictGrant

    return DistrictGrant.objects.filter(district=inst.district, role="finance_center").order_by("pk").first().user


def visit_body(w, t):
    return {"institution_code": w.inst[t[0]].code if t in "ABC" else w.inst["A"].code,
            "visited_on": VISITED_ON.isoformat(), "kind": "planned", "team": ["矩阵"]}


TABLE: dict[str, R] = {
    # pages
    "inspections:visits": R(plain(), get=g("-", "no", **INSPECTOR_PAGE)),
    "inspections:visit_new": R(plain(), get=g("-", "no", **INSPECTOR_PAGE), post=g("-", "no", **INSPECTOR_PAGE),
                               body={}),
    "inspections:plan": R(plain(), get=g("-", "no", fc="ok", su="choose"), post=g("-", "no", fc="ok", su="choose"),
                          body={}),
    "inspections:visit": R(by("inspvisit"), get=g("A B C", "nf", **READ)),
    "inspections:visit_finding": R(by("inspvisit"), post=g("A B C", "nf", **INSPECT), body={}),
    "inspections:visit_photos": R(by("inspvisit"), post=g("A B C", "nf", **INSPECT), body={}),
    "inspections:visit_bonus": R(by("inspvisit"), post=g("A B C", "nf", **INSPECT), body={}),
    "inspections:visit_notice": R(by("inspvisit"), get=g("A B C", "nf", **READ)),
    "inspections:photo": R(by("inspphoto"), get=g("A B C", "nf", **READ)),
    "inspections:rectifications": R(plain(), get=g("-", "ok")),
    "inspections:rectification": R(by("inspfinding"), get=g("A B C", "nf", **READ)),
    "inspections:rectification_report": R(by("inspfinding"), post=g("A B C", "nf", **REPORT), body={}),
    "inspections:rectification_accept": R(by("inspreported"), post=g("A B C", "nf", **INSPECT), body={}),
    "inspections:rectification_return": R(by("inspreported"), post=g("A B C", "nf", **INSPECT), body={}),
    # API
    "api:inspection-list": R(plain(), get=g("-", "ok"), post=g("-", "deny", fc="ok", insp="ok", su="ok"),
                             body=lambda w, t: visit_body(w, "A")),
    "api:inspection-detail": R(by("inspvisit"), get=g("A B C", "nf", **READ)),
    "api:inspection-findings": R(by("inspvisit"), get=g("A B C", "nf", **READ), post=g("A B C", "nf", **INSPECT),
                                 body={}),
    "api:inspection-photos": R(by("inspvisit"), post=g("A B C", "nf", **INSPECT), body={}),
    "api:inspection-bonuses": R(by("inspvisit"), post=g("A B C", "nf", **INSPECT), body={}),
    "api:inspection-notice": R(by("inspvisit"), get=g("A B C", "nf", **READ)),
    "api:rectification-list": R(plain(), get=g("-", "ok")),
    "api:rectification-detail": R(by("inspfinding"), get=g("A B C", "nf", **READ)),
    "api:rectification-report": R(by("inspfinding"), post=g("A B C", "nf", **REPORT), body={}),
    "api:rectification-accept": R(by("inspreported"), post=g("A B C", "nf", **INSPECT), body={}),
    "api:rectification-return": R(by("inspreported"), post=g("A B C", "nf", **INSPECT), body={}),
}

# The admin: read-only, the finance center of the district (A, B; the plan: A's district) and the
# installation administrator.
for _name, _model in {"inspections_visit": AdminModel("inspvisit", "A B C", fc="v", su="v"),
                      "inspections_finding": AdminModel("inspfinding", "A B C", fc="v", su="v"),
                      "inspections_plan": AdminModel("inspplan", "A C", fc="v", su="v")}.items():
    TABLE.update(admin_routes(_name, _model))
