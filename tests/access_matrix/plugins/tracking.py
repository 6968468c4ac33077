"""督办事项 of every kind: seen by the institution's filer and head (their own institution's) and by
the finance center and inspectors of the district; nobody else (404). The institution reports; the
finance center and inspectors accept or return."""

from __future__ import annotations

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from ..table import AdminModel, R, admin_routes, by, g, plain
from ..world import OPEN

READ = dict(fc="ok ok nf", insp="ok ok nf", inst="ok nf nf", su="ok")
REVIEW = dict(fc="ok ok nf", insp="ok ok nf", inst="deny nf nf", su="ok")
REPORT = dict(inst="ok nf nf", fc="deny deny nf", insp="deny deny nf", su="ok")


def build(w) -> None:
    from tracking import services

    items, reported, evidence = {}, {}, {}
    for t, institution in w.inst.items():
        items[t] = services.create_item(institution=institution, kind="other", title=f"矩阵督办{t}",
                                        start=date(OPEN, 3, 2), working_days=5)
        done = services.create_item(institution=institution, kind="campaign_return", title=f"矩阵报送{t}",
                                    start=date(OPEN, 3, 2), working_days=5)
        services.report(done, None, system=True, measures="矩阵办理情况",
                        files=[SimpleUploadedFile("证明.pdf", b"%PDF-1.4 mx", content_type="application/pdf")])
        reported[t] = done
        evidence[t] = done.replies.get().files.get()
    w.objs["trackitem"] = items
    w.objs["trackreported"] = reported
    w.objs["trackevidence"] = evidence


TABLE: dict[str, R] = {
    "tracking:items": R(plain(), get=g("-", "ok")),
    "tracking:item": R(by("trackitem"), get=g("A B C", "nf", **READ)),
    "tracking:report": R(by("trackitem"), post=g("A B C", "nf", **REPORT), body={}),
    "tracking:accept": R(by("trackreported"), post=g("A B C", "nf", **REVIEW), body={}),
    "tracking:return": R(by("trackreported"), post=g("A B C", "nf", **REVIEW), body={}),
    "tracking:evidence": R(by("trackevidence"), get=g("A B C", "nf", **READ)),
}

# The admin: read-only, the finance center of the district (A, B) and the installation administrator.
for _name, _model in {"tracking_trackeditem": AdminModel("trackitem", "A B C", fc="v", su="v")}.items():
    TABLE.update(admin_routes(_name, _model))
