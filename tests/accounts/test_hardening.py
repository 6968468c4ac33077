"""Issue #11 item 4: lockouts by username and address, the first password, expiring tokens."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = "Pass-word-123"  # the factories' password


def fail_logins(username, address, times=None):
    client = Client(REMOTE_ADDR=address)
    for _ in range(times or settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": username, "password": "wrong-guess"})


def login(username, address, password=GOOD):
    client = Client(REMOTE_ADDR=address)
    return client, client.post("/accounts/login/", {"username": username, "password": password})


def test_failures_from_another_address_do_not_lock_the_user_out():
    UserFactory(username="finance")
    fail_logins("finance", "203.0.113.9")
    client, resp = login("finance", "10.1.2.3")
    assert resp.status_code == 302 and client.session.get("_auth_user_id")


def test_failures_from_the_same_address_lock_with_a_chinese_page():
    UserFactory(username="victim")
    fail_logins("victim", "10.1.2.3")
    client, resp = login("victim", "10.1.2.3")
    assert resp.status_code == 429 and not client.session.get("_auth_user_id")
    text = resp.content.decode()
    assert "账号已暂时锁定" in text and "30 分钟" in text and "Account locked" not in text


def test_a_forwarded_for_header_does_not_dodge_the_lockout():
    UserFactory(username="victim")
    client = Client(REMOTE_ADDR="10.1.2.3")
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "victim", "password": "x"}, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    resp = client.post("/accounts/login/", {"username": "victim", "password": GOOD}, HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert resp.status_code == 429


def test_token_endpoint_locks_by_username_and_address_with_a_chinese_json_message():
    UserFactory(username="victim")
    api = Client(REMOTE_ADDR="10.1.2.3")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/v1/auth/token/", {"username": "victim", "password": "x"}, content_type="application/json")
    resp = api.post("/api/v1/auth/token/", {"username": "victim", "password": GOOD}, content_type="application/json")
    assert resp.status_code == 429 and "token" not in resp.json()
    assert "锁定" in resp.json()["detail"]
    other = Client(REMOTE_ADDR="10.9.9.9")
    resp = other.post("/api/v1/auth/token/", {"username": "victim", "password": GOOD}, content_type="application/json")
    assert resp.status_code == 200 and resp.json()["token"]


def test_superuser_unlocks_in_the_admin():
    from axes.models import AccessAttempt

    UserFactory(username="victim")
    fail_logins("victim", "10.1.2.3")
    attempt = AccessAttempt.objects.get(username="victim")
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    resp = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302 and not AccessAttempt.objects.exists()
    _client, resp = login("victim", "10.1.2.3")
    assert resp.status_code == 302


def test_first_password_change_refuses_the_temporary_password():
    from accounts.models import PasswordChangeRequired

    user = UserFactory(username="newbie")
    PasswordChangeRequired.objects.create(user=user)
    client, resp = login("newbie", "10.1.2.3")
    assert resp["Location"].startswith("/accounts/first-password/")
    resp = client.post("/accounts/first-password/", {"old_password": GOOD, "new_password1": GOOD,
                                                     "new_password2": GOOD, "email": ""})
    assert resp.status_code == 200 and "新密码不能与初始密码相同" in resp.content.decode()
    assert PasswordChangeRequired.objects.filter(user=user).exists()
    resp = client.post("/accounts/first-password/", {"old_password": GOOD, "new_password1": "Lu-qiao-2026!x",
                                                     "new_password2": "Lu-qiao-2026!x", "email": ""})
    assert resp.status_code == 302 and not PasswordChangeRequired.objects.filter(user=user).exists()


def token_for(username, password=GOOD):
    resp = Client().post("/api/v1/auth/token/", {"username": username, "password": password},
                         content_type="application/json")
    assert resp.status_code == 200
    return resp.json()["token"]


def me(key):
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_tokens_expire_after_the_setting_and_the_endpoint_issues_a_fresh_one(settings):
    from datetime import timedelta

    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    settings.API_TOKEN_TTL_DAYS = 30
    UserFactory(username="robot")
    key = token_for("robot")
    assert me(key).status_code == 200
    assert token_for("robot") == key  # unchanged while valid, as API.md has it
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=31))
    resp = me(key)
    assert resp.status_code == 401 and "已过期" in resp.json()["detail"]
    fresh = token_for("robot")
    assert fresh != key and me(fresh).status_code == 200


def test_first_password_change_revokes_tokens():
    from rest_framework.authtoken.models import Token

    from accounts import services

    user = UserFactory(username="robot")
    key = token_for("robot")
    services.password_changed(user)
    assert not Token.objects.filter(user=user).exists() and me(key).status_code == 401


def test_admin_password_change_revokes_tokens():
    user = UserFactory(username="robot")
    key = token_for("robot")
    admin = Client()
    admin.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = f"/admin/auth/user/{user.pk}/password/"
    # A refused form changes nothing.
    admin.post(url, {"password1": "Lu-qiao-2026!x", "password2": "different-2026!x", "usable_password": "true"})
    assert me(key).status_code == 200
    resp = admin.post(url, {"password1": "Lu-qiao-2026!x", "password2": "Lu-qiao-2026!x", "usable_password": "true"})
    assert resp.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Lu-qiao-2026!x") and me(key).status_code == 401


def test_manage_py_changepassword_revokes_tokens(monkeypatch):
    """The operator's command (and any set_password + save) ends the tokens too, through the
    password validators' password_changed hook."""
    from django.core.management import call_command

    UserFactory(username="robot")
    key = token_for("robot")
    monkeypatch.setattr("django.contrib.auth.management.commands.changepassword.getpass.getpass",
                        lambda prompt="": "Lu-qiao-2026!x")
    call_command("changepassword", "robot", stdout=__import__("io").StringIO())
    assert me(key).status_code == 401


def test_a_failed_password_change_keeps_the_token():
    from django.contrib.auth import get_user_model

    UserFactory(username="robot")
    key = token_for("robot")
    user = get_user_model().objects.get(username="robot")
    user.email = "robot@example.invalid"
    user.save()  # a save that does not change the password revokes nothing
    assert me(key).status_code == 200


def test_finance_center_unlocks_its_employees_from_the_employees_admin(org):
    from axes.models import AccessAttempt

    from institutions.models import Employee

    fail_logins("emp_a", "10.1.2.3")
    assert login("emp_a", "10.1.2.3")[1].status_code == 429
    employee = Employee.objects.get(user=org.emp_a)

    def run(user):
        client = Client()
        client.force_login(user)
        return client.post("/admin/institutions/employee/", {"action": "unlock_login_accounts",
                                                             "_selected_action": [employee.pk]})

    run(org.head_a)  # may only view employees: no such action
    assert AccessAttempt.objects.filter(username="emp_a").exists()
    resp = run(org.finance)
    assert resp.status_code == 302 and not AccessAttempt.objects.filter(username="emp_a").exists()
    assert login("emp_a", "10.1.2.3")[1].status_code == 302


def test_an_overlong_username_for_a_token_is_a_400_not_a_500():
    from rest_framework.test import APIClient

    response = APIClient().post("/api/v1/auth/token/", {"username": "x" * 5000, "password": "p"}, format="json")
    assert response.status_code == 400 and "username" in response.json()
