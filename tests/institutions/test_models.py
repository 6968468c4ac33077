import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from institutions.models import Employee, Institution
from tests.factories import EmployeeFactory, InstitutionFactory

pytestmark = pytest.mark.django_db


def test_full_clean_reports_the_broken_usc_rule():
    inst = InstitutionFactory.build(usc_code="91350100M000100Y44")
    with pytest.raises(ValidationError) as exc:
        inst.full_clean()
    assert "校验位错误" in str(exc.value.message_dict["usc_code"])


def test_database_refuses_malformed_usc_code():
    inst = InstitutionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Institution.objects.filter(pk=inst.pk).update(usc_code="not-a-code-at-all!")


def test_database_refuses_unknown_category_and_duplicate_usc():
    a = InstitutionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Institution.objects.filter(pk=a.pk).update(category="casino")
    b = InstitutionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Institution.objects.filter(pk=b.pk).update(usc_code=a.usc_code)


def test_employee_number_unique_within_institution_only():
    e = EmployeeFactory(employee_no="E1")
    EmployeeFactory(employee_no="E1")  # another institution: fine
    with pytest.raises(IntegrityError), transaction.atomic():
        Employee.objects.create(institution=e.institution, employee_no="E1", name="重复")


def test_public_code_is_unguessable_and_stable():
    a, b = InstitutionFactory(), InstitutionFactory()
    assert a.public_code != b.public_code and len(a.public_code) >= 20
    a.name = "改名"
    a.save()
    a.refresh_from_db()
    assert a.public_code == Institution.objects.get(pk=a.pk).public_code


def test_changes_are_kept_in_history():
    inst = InstitutionFactory(name="旧名")
    inst.name = "新名"
    inst.save()
    assert [h.name for h in inst.history.order_by("history_date")] == ["旧名", "新名"]
