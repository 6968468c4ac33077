import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.models import PasswordChangeRequired
from institutions import access
from institutions.models import Employee, Membership
from tests.factories import EmployeeFactory, institution_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/institutions/employee/"


def run_action(user, employees) -> tuple[int, list[dict]]:
    client = Client()
    client.force_login(user)
    resp = client.post(CHANGELIST, {"action": "create_login_accounts",
                                    "_selected_action": [e.pk for e in employees]})
    if resp.get("Content-Type", "").startswith("text/csv"):
        text = resp.content.decode("utf-8-sig")
        return resp.status_code, list(csv.DictReader(io.StringIO(text)))
    return resp.status_code, []


def test_finance_center_creates_accounts_for_staff(org):
    new = [EmployeeFactory(institution=org.b, name="乙新人", employee_no="E900"),
           EmployeeFactory(institution=org.b, name="乙新人二", employee_no="E901")]
    has_account = Employee.objects.get(user=org.emp_b)
    gone = EmployeeFactory(institution=org.b, name="离职者", is_active=False)
    status, rows = run_action(org.finance, [*new, has_account, gone])
    assert status == 200 and [r["姓名"] for r in rows] == ["乙新人", "乙新人二"]
    assert rows[0]["登录名"] == "b001-e900"
    for row, employee in zip(rows, new, strict=True):
        employee.refresh_from_db()
        user = employee.user
        assert user.username == row["登录名"] and user.check_password(row["初始密码"])
        assert access.user_roles(user) == {"employee"}
        assert Membership.objects.filter(user=user, institution=org.b, role="employee").exists()
        assert PasswordChangeRequired.objects.filter(user=user).exists()
        assert not user.is_staff
    gone.refresh_from_db()
    assert gone.user is None
    # Employee changes are audited like any other.
    assert new[0].history.first().user_id is not None


def test_running_twice_creates_nothing_more(org):
    employee = EmployeeFactory(institution=org.b, employee_no="E900")
    assert len(run_action(org.finance, [employee])[1]) == 1
    users = get_user_model().objects.count()
    assert run_action(org.finance, [employee])[1] == []
    assert get_user_model().objects.count() == users


def test_username_clash_gets_a_suffix(org):
    from tests.factories import UserFactory

    UserFactory(username="b001-e900")
    employee = EmployeeFactory(institution=org.b, employee_no="E900")
    assert run_action(org.finance, [employee])[1][0]["登录名"] == "b001-e900-2"


def test_filer_creates_accounts_for_own_staff_only(org):
    filer = institution_user(org.a, "institution_filer", username="filer_a", is_staff=True)
    mine = EmployeeFactory(institution=org.a, employee_no="E900")
    theirs = EmployeeFactory(institution=org.b, employee_no="E901")
    _status, rows = run_action(filer, [mine, theirs])
    assert [r["工号"] for r in rows] == ["E900"]
    theirs.refresh_from_db()
    assert theirs.user is None


def test_head_without_change_permission_cannot(org):
    employee = EmployeeFactory(institution=org.a, employee_no="E900")
    run_action(org.head_a, [employee])
    employee.refresh_from_db()
    assert employee.user is None


def test_first_login_forces_a_password_change(org):
    employee = EmployeeFactory(institution=org.a, name="新员工", employee_no="E900")
    row = run_action(org.finance, [employee])[1][0]
    client = Client()
    resp = client.post("/accounts/login/?next=/warnings/", {"username": row["登录名"], "password": row["初始密码"],
                                                          "next": "/warnings/"})
    assert resp.status_code == 302 and resp["Location"].startswith("/accounts/first-password/")
    # Until changed, every page leads to the form and the session API refuses.
    assert client.get("/warnings/")["Location"].startswith("/accounts/first-password/")
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/warnings/").status_code == 403
    assert client.get("/accounts/first-password/").status_code == 200
    resp = client.post(resp["Location"], {"old_password": row["初始密码"], "new_password1": "Lu-qiao-2026!x",
                                          "new_password2": "Lu-qiao-2026!x", "email": "new@example.invalid"})
    assert resp.status_code == 302 and resp["Location"] == "/warnings/"
    assert client.get("/warnings/").status_code == 200
    user = get_user_model().objects.get(username=row["登录名"])
    assert user.check_password("Lu-qiao-2026!x") and user.email == "new@example.invalid"
    assert not PasswordChangeRequired.objects.filter(user=user).exists()
    # Next login goes straight in.
    client = Client()
    resp = client.post("/accounts/login/", {"username": row["登录名"], "password": "Lu-qiao-2026!x"})
    assert resp.status_code == 302 and not resp["Location"].startswith("/accounts/first-password/")


def test_ordinary_login_is_untouched(org):
    client = Client()
    resp = client.post("/accounts/login/", {"username": "emp_a", "password": "Pass-word-123"})
    assert resp.status_code == 302 and resp["Location"] == "/"
    assert client.get("/warnings/").status_code == 200


def test_temporary_passwords_are_hashed_cheaply_then_upgraded_at_first_login(settings):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from accounts import services as accounts
    from tests.factories import UserFactory

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    password = accounts.temporary_password()
    assert len(password) == accounts.PASSWORD_LENGTH and password.isalnum()
    encoded = accounts._hash(password)
    assert encoded.startswith(f"pbkdf2_sha256${accounts.TEMPORARY_PASSWORD_ITERATIONS}$")
    user = UserFactory(username="temp")
    user.password = encoded
    user.save()
    assert user.check_password(password)
    user.refresh_from_db()
    assert user.password.startswith(f"pbkdf2_sha256${PBKDF2PasswordHasher.iterations}$")


def test_api_tokens_wait_for_the_password_change(org):
    from rest_framework.authtoken.models import Token

    employee = EmployeeFactory(institution=org.a, name="新员工", employee_no="E900")
    row = run_action(org.finance, [employee])[1][0]
    api = Client()
    # No token for the temporary password: the same clear message as the web, and nothing stored.
    resp = api.post("/api/v1/auth/token/", {"username": row["登录名"], "password": row["初始密码"]})
    assert resp.status_code == 403 and "修改初始密码" in resp.json()["detail"]
    user = get_user_model().objects.get(username=row["登录名"])
    assert not Token.objects.filter(user=user).exists()
    # A token that exists anyway (made by an administrator) is refused until the password is changed.
    token = Token.objects.create(user=user)
    resp = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert resp.status_code == 403 and "修改初始密码" in resp.json()["detail"]
    web = Client()
    web.post("/accounts/login/", {"username": row["登录名"], "password": row["初始密码"]})
    web.post("/accounts/first-password/", {"old_password": row["初始密码"], "new_password1": "Lu-qiao-2026!x",
                                           "new_password2": "Lu-qiao-2026!x", "email": ""})
    assert not PasswordChangeRequired.objects.filter(user=user).exists()
    # The change revoked the old token (issue #11); the new password gets a new one.
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 401
    resp = api.post("/api/v1/auth/token/", {"username": row["登录名"], "password": "Lu-qiao-2026!x"})
    assert resp.status_code == 200 and resp.json()["token"] != token.key
    new = resp.json()["token"]
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {new}").json()["username"] == row["登录名"]


def test_wrong_and_ordinary_tokens_are_unchanged(org):
    from rest_framework.authtoken.models import Token

    api = Client()
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION="Token nope").status_code == 401
    token = Token.objects.create(user=org.emp_a)
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token.key}").json()["username"] == "emp_a"


def test_pending_password_changes_are_listed_for_the_finance_center(org):
    def signed_in(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    assert signed_in(org.finance).get("/admin/accounts/passwordchangerequired/").status_code == 200
    assert signed_in(org.head_a).get("/admin/accounts/passwordchangerequired/").status_code == 403
