import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_locks_after_repeated_failures(client):
    UserFactory(username="victim")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/accounts/login/", {"username": "victim", "password": "wrong-guess"})
    resp = client.post("/accounts/login/", {"username": "victim", "password": "Pass-word-123"})
    assert resp.status_code == 429  # locked even with the right password now
    assert not client.session.get("_auth_user_id")


def test_api_token_endpoint_is_locked_too(api):
    UserFactory(username="victim2")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api.post("/api/v1/auth/token/", {"username": "victim2", "password": "x"}, format="json")
    resp = api.post("/api/v1/auth/token/", {"username": "victim2", "password": "Pass-word-123"}, format="json")
    assert resp.status_code in (403, 429, 400) and "token" not in resp.json()


def test_successful_login(client):
    UserFactory(username="ok")
    resp = client.post("/accounts/login/", {"username": "ok", "password": "Pass-word-123"})
    assert resp.status_code == 302 and client.session.get("_auth_user_id")


def test_security_headers(client):
    resp = client.get("/accounts/login/")
    assert "default-src 'self'" in resp["Content-Security-Policy"]
    assert resp["X-Frame-Options"] == "DENY"


def test_password_validators_reject_weak_passwords():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("12345678")


def test_check_deploy_is_clean_with_production_settings():
    from cryptography.fernet import Fernet

    env = {**os.environ, "DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "x" * 30 + "-production-secret-key-0123456789",
           "COMPLAINTS_PII_KEY": Fernet.generate_key().decode()}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for Playwright, never in production
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                         cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_production_refuses_default_secret_key():
    env = {**os.environ, "DJANGO_DEBUG": "false"}
    env.pop("DJANGO_SECRET_KEY", None)
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "DJANGO_SECRET_KEY" in out.stderr
