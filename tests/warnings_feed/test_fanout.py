from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from institutions.models import District
from institutions.services import grant_role
from tests.factories import EmployeeFactory, InstitutionFactory
from tests.warnings_feed.conftest import draft
from warnings_feed import services, tasks
from warnings_feed.models import Delivery, Warning

pytestmark = pytest.mark.django_db


def delivered_to(warning) -> set[str]:
    return set(Delivery.objects.filter(warning=warning).values_list("employee__name", flat=True))


def test_district_warning_reaches_every_active_employee_of_the_district(org, publish):
    EmployeeFactory(institution=org.a, name="离职员工", is_active=False)
    closed = InstitutionFactory(code="Z001", name="已撤销机构", is_active=False)
    EmployeeFactory(institution=closed, name="撤销机构员工")
    elsewhere = InstitutionFactory(code="J001", district=District.objects.get(code="331002"))
    EmployeeFactory(institution=elsewhere, name="椒江员工")
    warning = publish(org.finance, district_code="331004")  # two districts now: name it
    assert delivered_to(warning) == {"甲员工", "甲同事", "乙员工", "丙员工"}
    warning.refresh_from_db()
    assert warning.recipients == 4 and warning.fanned_out_at is not None
    # Each delivery records the employee's institution (for the rates).
    assert set(Delivery.objects.filter(warning=warning).values_list("institution__code", flat=True)) == {
        "A001", "B001", "C001"}


def test_with_several_districts_the_district_must_be_named(org, publish):
    # Other districts in the installation do not matter: an officer of one district publishes there.
    InstitutionFactory(code="J001", district=District.objects.get(code="331002"))
    assert publish(org.finance).district.code == "331004"
    # Granted several, the officer names one of them.
    grant_role(org.finance, "finance_center", District.objects.get(code="331002"))
    with pytest.raises(ValidationError) as error:
        publish(org.finance)
    assert "district" in error.value.message_dict and "331002" in str(error.value.message_dict["district"])
    assert publish(org.finance, district_code="331002").district.code == "331002"


def test_category_warning_reaches_that_category_only(org, publish):
    warning = publish(org.finance, scope="category", category="bank")
    assert delivered_to(warning) == {"甲员工", "甲同事", "丙员工"}


def test_institution_warning_reaches_that_institution_only(org, publish):
    warning = publish(org.finance, scope="institution", institution_code="B001")
    assert delivered_to(warning) == {"乙员工"}


def test_fan_out_is_idempotent(org, publish):
    warning = publish(org.finance)
    first = Delivery.objects.filter(warning=warning).count()
    assert services.fan_out(warning.pk) == 0
    assert tasks.fan_out_warning.delay(warning.pk).get() == 0
    assert Delivery.objects.filter(warning=warning).count() == first == 4


def test_running_again_delivers_only_to_new_employees(org, publish):
    warning = publish(org.finance)
    before = dict(Delivery.objects.filter(warning=warning).values_list("employee_id", "delivered_at"))
    EmployeeFactory(institution=org.b, name="新员工")
    assert services.fan_out(warning.pk) == 1
    after = dict(Delivery.objects.filter(warning=warning).values_list("employee_id", "delivered_at"))
    assert len(after) == 5 and all(after[pk] == at for pk, at in before.items())
    warning.refresh_from_db()
    assert warning.recipients == 5


def test_publishing_enqueues_the_fan_out_after_commit(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        warning = services.publish(org.finance, draft())
    assert len(callbacks) == 1
    assert not Delivery.objects.filter(warning=warning).exists()  # nothing before the commit
    callbacks[0]()
    assert Delivery.objects.filter(warning=warning).count() == 4


def test_scheduled_warning_waits_for_the_beat_job(org, publish):
    later = timezone.now() + timedelta(hours=2)
    warning = publish(org.finance, publish_at=later)
    assert not Delivery.objects.filter(warning=warning).exists()
    assert services.fan_out(warning.pk) == 0  # not due yet, even if a task runs early
    assert services.publish_due() == []
    assert services.publish_due(now=later + timedelta(minutes=1)) == [warning.pk]
    # The beat job queued the task, which checks the time itself: make the warning due.
    Warning.objects.filter(pk=warning.pk).update(publish_at=timezone.now())
    assert tasks.publish_due_warnings.delay().get() == [warning.pk]
    assert Delivery.objects.filter(warning=warning).count() == 4
    assert tasks.publish_due_warnings.delay().get() == []  # delivered: not queued again


def test_one_delivery_per_employee_is_a_database_rule(org, publish):
    warning = publish(org.finance, scope="institution", institution_code="B001")
    delivery = Delivery.objects.get(warning=warning)
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(warning=warning, employee=delivery.employee, institution=org.b)


def test_acknowledged_implies_read_is_a_database_rule(org, publish):
    warning = publish(org.finance, scope="institution", institution_code="B001")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.filter(warning=warning).update(acknowledged_at=timezone.now())


@pytest.mark.parametrize(("scope", "category", "with_institution"), [
    ("district", "bank", False), ("district", "", True), ("category", "", False), ("institution", "", False),
    ("category", "bank", True),
])
def test_scope_target_is_a_database_rule(org, scope, category, with_institution):
    with pytest.raises(IntegrityError), transaction.atomic():
        Warning.objects.create(title="t", body="b", scope=scope, category=category, district=org.a.district,
                               institution=org.a if with_institution else None)
