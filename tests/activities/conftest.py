"""A small world for the programme's year: 路桥区 institutions A and B, 椒江区 institution C, a
template scheme with clauses 1.1, 1.2, 2.1, and the users acting on them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from institutions.models import District
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import build_scheme

YEAR = 2026


def client_for(user):
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def w(db):
    scheme = build_scheme(YEAR)
    clauses = {c.number: c for c in scheme.norms.clauses.all()}
    a = InstitutionFactory(code="A001", name="甲银行")
    b = InstitutionFactory(code="B001", name="乙保险", category="insurance")
    c = InstitutionFactory(code="C001", name="丙银行", district=District.objects.get(code="331002"))
    emps = [EmployeeFactory(institution=a, employee_no=f"A{i}", name=f"甲员工{i}") for i in range(1, 4)]
    emp_b = EmployeeFactory(institution=b, employee_no="B1", name="乙员工1")
    filer = institution_user(a, "institution_filer", username="filer_a", email="filer_a@example.com")
    head = institution_user(a, "institution_head", username="head_a")
    filer_b = institution_user(b, "institution_filer", username="filer_b", email="filer_b@example.com")
    filer_c = institution_user(c, "institution_filer", username="filer_c")
    fc = UserFactory(username="fc", roles=["finance_center"])
    fc_c = UserFactory(username="fc_jj", roles=["finance_center"], roles__districts=["331002"])
    insp = UserFactory(username="insp", roles=["inspector"])
    return SimpleNamespace(scheme=scheme, clauses=clauses, a=a, b=b, c=c, emps=emps, emp_b=emp_b, filer=filer,
                           head=head, filer_b=filer_b, filer_c=filer_c, fc=fc, fc_c=fc_c, insp=insp)


@pytest.fixture
def kinds(w):
    from activities import services
    from activities.models import ActivityKind

    services.ensure_catalogue(w.a.district_id)
    services.ensure_catalogue(w.c.district_id)
    return {
        "lq": ActivityKind.objects.filter(district=w.a.district).order_by("pk").first(),
        "jj": ActivityKind.objects.filter(district=w.c.district).order_by("pk").first(),
    }


def make_activity(w, kinds, inst=None, user=None, title="清风墙揭牌", clause="1.1", held_on=None):
    import datetime as dt

    from activities import services

    inst = inst or w.a
    user = user or w.filer
    kind = kinds["lq"] if inst.district_id == w.a.district_id else kinds["jj"]
    clause_ids = []
    if clause:
        clause_ids = [services.clauses_for(inst.district_id, YEAR).get(number=clause).pk]
    return services.record_activity(user, inst, services.ActivityInput(
        kind_id=kind.pk, title=title, held_on=held_on or dt.date(YEAR, 4, 1), clause_ids=clause_ids,
        participant_count=12))
