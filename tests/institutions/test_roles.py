import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def test_migration_creates_every_role_group():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"finance_center", "inspector", "third_party", "institution_filer", "institution_head",
            "discipline", "api_client", "employee", "city"} <= names


def perms(role):
    return set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))


def test_finance_center_manages_the_registry():
    assert {"add_institution", "change_institution", "delete_institution", "change_employee",
            "change_membership"} <= perms("finance_center")


def test_institution_roles_are_limited():
    assert "change_institution" not in perms("institution_filer")
    assert {"add_employee", "change_employee"} <= perms("institution_filer")
    assert "change_employee" not in perms("institution_head")
    assert "view_institution" in perms("api_client")
    assert not {p for p in perms("api_client") if not p.startswith("view_")}
    assert not perms("employee") & {"view_institution", "change_employee"}
