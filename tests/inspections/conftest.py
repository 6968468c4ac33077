import pytest

from institutions.models import District
from scoring.models import NormClause, NormItem, Norms
from tests.factories import InstitutionFactory, UserFactory, institution_user


def make_norms(year, district=None, clauses=("1.1", "1.2", "3.2")):
    norms = Norms.objects.create(year=year, district=district, title=f"{year}年创建规范")
    items = {}
    for number in clauses:
        item_no = int(number.split(".")[0])
        if item_no not in items:
            items[item_no] = NormItem.objects.create(norms=norms, number=item_no, title=f"第{item_no}项")
        NormClause.objects.create(norms=norms, item=items[item_no], number=number, title=f"条款{number}")
    return norms


@pytest.fixture
def places(db):
    """A and B in 路桥 (331004, own 2026 norms: 1.1, 1.2, 3.2), C in 椒江 (331002, the template:
    1.1, 2.1), with their users and the districts' inspectors and finance centers."""
    luqiao = District.objects.get(code="331004")
    jiaojiang = District.objects.get(code="331002")
    make_norms(2026, luqiao)
    make_norms(2026, None, clauses=("1.1", "2.1"))
    a = InstitutionFactory(code="TA01", name="甲银行")
    b = InstitutionFactory(code="TB01", name="乙银行")
    c = InstitutionFactory(code="TC01", name="丙银行", district=jiaojiang)
    return {
        "a": a, "b": b, "c": c,
        "filer_a": institution_user(a, "institution_filer", email="filer-a@example.com"),
        "head_a": institution_user(a, "institution_head"),
        "emp_a": institution_user(a, "employee"),
        "filer_b": institution_user(b, "institution_filer"),
        "filer_c": institution_user(c, "institution_filer"),
        "fc": UserFactory(username="fc-lq", roles=["finance_center"]),
        "insp": UserFactory(username="insp-lq", roles=["inspector"]),
        "fc_jj": UserFactory(username="fc-jj", roles=["finance_center"], roles__districts=["331002"]),
        "insp_jj": UserFactory(username="insp-jj", roles=["inspector"], roles__districts=["331002"]),
        "disc": UserFactory(username="disc-lq", roles=["discipline"]),
    }
