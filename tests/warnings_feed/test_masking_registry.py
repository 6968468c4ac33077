"""The employee registry's names of the institutions a warning concerns are masked wherever the text
names them, also where neither the warning's list nor the tagger finds them (issue #11, item 3)."""

from django.urls import reverse

from core.masking import detect_names
from tests.conftest import client_for
from tests.factories import EmployeeFactory

BODY = "经核实，该笔贷款由任重远经办"


def test_registry_names_are_masked_on_every_public_surface(org, api, client, publish):
    assert detect_names(BODY) == []  # neither a role word nor the tagger points at the name
    EmployeeFactory(institution=org.a, name="任重远")
    warning = publish(org.finance, title="违规放贷通报", body=BODY, names=[], is_public=True)

    listed = api.get("/api/v1/public/warnings/").json()["results"][0]
    detail = api.get(f"/api/v1/public/warnings/{warning.pk}/").json()
    atom = client.get(reverse("warnings_feed:public_atom")).content.decode()
    page = client.get(reverse("warnings_feed:public_detail", args=[warning.pk])).content.decode()
    feed = client_for(org.emp_b).get("/api/v1/warnings/").json()["results"][0]
    for shown in (listed["body"], detail["body"], atom, page, feed["body"]):
        assert "任重远" not in shown and "任某" in shown
    # The finance center reads the original.
    assert client_for(org.finance).get(f"/api/v1/warnings/{warning.pk}/").json()["body"] == BODY


def test_the_registry_is_that_of_the_institutions_concerned(org, publish):
    EmployeeFactory(institution=org.a, name="任重远")
    to_b = publish(org.finance, title="通报", body=BODY, names=[], scope="institution", institution_code="B001")
    to_banks = publish(org.finance, title="通报", body=BODY, names=[], scope="category", category="bank")
    # 任重远 works at bank A: not in insurer B's registry, in the banks'.
    assert client_for(org.emp_b).get(f"/api/v1/warnings/{to_b.pk}/").json()["body"] == BODY
    assert client_for(org.emp_a).get(f"/api/v1/warnings/{to_banks.pk}/").json()["body"] == "经核实，该笔贷款由任某经办"


def test_only_the_registry_names_in_the_text_are_fetched(org, publish, django_assert_num_queries):
    from warnings_feed import presentation
    from warnings_feed.models import Warning

    EmployeeFactory(institution=org.a, name="任重远")
    publish(org.finance, title="通报", body=BODY, names=[])
    publish(org.finance, title="通报", body="甲员工未按时学习", names=[], scope="institution", institution_code="A001")
    warnings = list(Warning.objects.order_by("pk"))
    with django_assert_num_queries(1):
        presentation.attach_registry(warnings)
    # The district's other employees (甲同事, 乙员工 ...) stay in the database.
    assert [w.registry_names for w in warnings] == [frozenset({"任重远"}), frozenset({"甲员工"})]
