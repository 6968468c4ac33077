"""风险预警 (RISK.md): the data stays with its institution. Its filers and heads load, screen and
review; the finance center sees escalated alerts (and forwards them) and the summary; nobody else
sees anything (lists empty, objects 404). The installation administrator is no institution's user:
escalated alerts and the summary only."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from ..table import R, by, g, plain, with_district

INST_ONLY = dict(inst="ok nf nf", su="nf")


def build(w) -> None:
    from risk.models import Alert, Screening, Suppression

    today = timezone.localdate()
    w.objs["riskscreening"] = {t: Screening.objects.create(institution=i, date_from=dt.date(2026, 1, 1),
                                                           date_to=dt.date(2026, 1, 31), status="done")
                               for t, i in w.inst.items()}

    def alert(t, i, status, period):
        return Alert.objects.create(institution=i, rule="R04", rule_version="1", params={}, severity="high",
                                    employee_no=f"M{t}001", period=period, status=status,
                                    evidence=[{"txn_id": f"MX{t}", "amount": "100.00"}], raised_on=today,
                                    due_on=today + dt.timedelta(days=7))

    w.objs["riskalert"] = {t: alert(t, i, "new", "2026-01-01/2026-01-31") for t, i in w.inst.items()}
    w.objs["riskalertesc"] = {t: alert(t, i, "escalated", "2026-02-01/2026-02-28") for t, i in w.inst.items()}
    w.objs["risksuppression"] = {t: Suppression.objects.create(institution=i, rule="R01", employee_no=f"M{t}001",
                                                               reason="亲属账户") for t, i in w.inst.items()}


def rule_url(w, key, t):
    return reverse(key, kwargs={"code": "R01"})


ACTORS_WRITE = g("-", "no", inst="ok", su="no")

TABLE: dict[str, R] = {
    # pages
    "risk:queue": R(plain(), get=g("-", "ok")),
    "risk:alert": R(by("riskalert"), get=g("A B C", "nf", **INST_ONLY)),
    "risk:alert_action": R(by("riskalert", verb="review"), post=g("A B C", "nf", **INST_ONLY), body={}),
    "risk:upload": R(plain(), get=ACTORS_WRITE, post=ACTORS_WRITE, body={}),
    "risk:screen": R(plain(), post=ACTORS_WRITE, body={}),
    "risk:summary": R(with_district(), get=g("- C", "no", fc="ok nf", su="choose ok")),
    # API
    "api:employee-list": R(plain(), get=g("-", "ok")),
    "api:risk-upload-list": R(plain(), get=g("-", "ok"), post=ACTORS_WRITE, body={"kind": "events"}),
    "api:risk-screening-list": R(plain(), get=g("-", "ok"), post=ACTORS_WRITE,
                                 body={"from": "2026-01-01", "to": "2026-01-31"}),
    "api:risk-screening-detail": R(by("riskscreening"), get=g("A B C", "nf", **INST_ONLY)),
    "api:risk-alert-list": R(plain(), get=g("-", "ok")),
    "api:risk-alert-detail": R(by("riskalert"), get=g("A B C", "nf", **INST_ONLY)),
    "api:risk-alert-act": R(by("riskalert", verb="review"), post=g("A B C", "nf", **INST_ONLY), body={}),
    "api:risk-alert-assign": R(by("riskalert"), post=g("A B C", "nf", **INST_ONLY), body={}),
    "api:risk-alert-forward": R(by("riskalertesc"), post=g("A B C", "nf", fc="ok ok nf", su="ok"),
                                body={"to": "区纪委", "note": "矩阵转交"}),
    "api:risk-suppression-list": R(plain(), get=g("-", "ok"), post=ACTORS_WRITE,
                                   body={"rule": "R02", "employee_no": "MA001", "reason": "矩阵屏蔽"}),
    "api:risk-suppression-lift": R(by("risksuppression"), post=g("A B C", "nf", **INST_ONLY)),
    "api:risk-rules": R(plain(), get=g("-", "no", inst="ok", su="no")),
    "api:risk-rule-change": R(rule_url, post=ACTORS_WRITE, body={"enabled": True, "reason": "矩阵"}),
    "api:risk-summary": R(with_district(), get=g("- C", "no", fc="ok nf", su="pick ok")),
}
