import pytest

from institutions.models import District
from tests.factories import InstitutionFactory, UserFactory, institution_user


@pytest.fixture
def places(db):
    """A and B in 路桥 (331004), C in 椒江 (331002), with their users and the districts' reviewers."""
    jiaojiang = District.objects.get(code="331002")
    a = InstitutionFactory(code="TA01", name="甲银行")
    b = InstitutionFactory(code="TB01", name="乙银行")
    c = InstitutionFactory(code="TC01", name="丙银行", district=jiaojiang)
    return {
        "a": a, "b": b, "c": c,
        "filer_a": institution_user(a, "institution_filer", email="filer-a@example.com"),
        "head_a": institution_user(a, "institution_head", email="head-a@example.com"),
        "emp_a": institution_user(a, "employee"),
        "filer_b": institution_user(b, "institution_filer"),
        "filer_c": institution_user(c, "institution_filer"),
        "fc": UserFactory(username="fc-lq", roles=["finance_center"], email="fc@example.com"),
        "insp": UserFactory(username="insp-lq", roles=["inspector"]),
        "fc_jj": UserFactory(username="fc-jj", roles=["finance_center"], roles__districts=["331002"]),
        "third": UserFactory(username="tp-lq", roles=["third_party"]),
    }
