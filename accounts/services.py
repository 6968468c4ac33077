"""Employees' own logins: bulk creation for an institution's staff, and the first-login password change.

The admin action on employees (admin.py) calls `create_employee_accounts`; the middleware and the
token authentication ask `password_change_required`; the first-password page calls `password_changed`.

Each account gets the role `employee`, an employee membership of the employee's institution and
the link Employee.user, plus a random temporary password that must be changed at first login.

Temporary passwords are 12 random characters (about 69 bits) hashed with PBKDF2 at a lower
iteration count than Django's default: with that much entropy the iteration count is not what
protects them, and hashing a few hundred staff at the full count would take minutes in one admin
request. Django re-hashes at the full count on the first login, and the forced change replaces
the password anyway.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher, get_hasher, make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from rest_framework.authtoken.models import Token
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from institutions.models import Employee, Membership, Role

from .models import PasswordChangeRequired

PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105 (an alphabet)
PASSWORD_LENGTH = 12
TEMPORARY_PASSWORD_ITERATIONS = 60_000
_USERNAME_JUNK = re.compile(r"[^\w.@+-]", re.ASCII)


@dataclass(frozen=True)
class IssuedAccount:
    institution_code: str
    employee_no: str
    name: str
    username: str
    password: str


def temporary_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(PASSWORD_LENGTH))


def base_username(institution_code: str, employee_no: str) -> str:
    """lq-b01-e001: the institution code and staff number, lower case, only characters Django allows."""
    return _USERNAME_JUNK.sub("", f"{institution_code}-{employee_no}".lower())[:140] or "employee"


def unique_usernames(bases: list[str], taken: set[str]) -> list[str]:
    """Each base, or base-2, base-3 … when already taken (by an existing user or earlier in the list)."""
    out = []
    for base in bases:
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        taken.add(name)
        out.append(name)
    return out


def _hash(password: str) -> str:
    hasher = get_hasher()  # the configured default
    if isinstance(hasher, PBKDF2PasswordHasher):
        iterations = min(TEMPORARY_PASSWORD_ITERATIONS, hasher.iterations)
        return hasher.encode(password, hasher.salt(), iterations=iterations)
    return make_password(password)


@transaction.atomic
def create_employee_accounts(employees: QuerySet[Employee], *, created_by) -> tuple[list[IssuedAccount], int]:
    """Accounts for the active employees among `employees` that have none; returns them (with their
    temporary passwords, shown once) and how many employees were skipped."""
    User = get_user_model()
    # In id order, as every other locker of employees (activities' training hours): no deadlock between them.
    selected = list(employees.select_related("institution").select_for_update(of=("self",)).order_by("pk"))
    todo = [e for e in selected if e.user_id is None and e.is_active]
    if not todo:
        return [], len(selected)
    bases = [base_username(e.institution.code, e.employee_no) for e in todo]
    taken = set(User.objects.filter(username__regex=r"^(" + "|".join(map(re.escape, set(bases))) + r")(-[0-9]+)?$")
                .values_list("username", flat=True))
    usernames = unique_usernames(bases, taken)
    passwords = [temporary_password() for _ in todo]
    users = User.objects.bulk_create([
        User(username=username, first_name=employee.name[:150], password=_hash(password), is_active=True)
        for employee, username, password in zip(todo, usernames, passwords, strict=True)
    ])
    Group.objects.get(name=Role.EMPLOYEE).user_set.add(*users)
    bulk_create_with_history(
        [Membership(user=user, institution_id=employee.institution_id, role=Role.EMPLOYEE)
         for employee, user in zip(todo, users, strict=True)],
        Membership, default_user=created_by,
    )
    for employee, user in zip(todo, users, strict=True):
        employee.user = user
    bulk_update_with_history(todo, Employee, ["user"], default_user=created_by)
    PasswordChangeRequired.objects.bulk_create(
        [PasswordChangeRequired(user=user, created_by=created_by) for user in users])
    issued = [IssuedAccount(e.institution.code, e.employee_no, e.name, username, password)
              for e, username, password in zip(todo, usernames, passwords, strict=True)]
    return issued, len(selected) - len(todo)


def password_change_required(user) -> bool:
    return PasswordChangeRequired.objects.filter(user=user).exists()


def password_changed(user, *, email: str = "") -> None:
    """The temporary password was replaced: lift the obligation (and keep the e-mail for reminders)."""
    if email and email != user.email:
        user.email = email
        user.save(update_fields=["email"])
    PasswordChangeRequired.objects.filter(user=user).delete()
    revoke_api_tokens(user)


def revoke_api_tokens(user) -> int:
    """A changed password ends every API token of the account (called by each password change:
    the first-login page and the users' admin); returns how many were revoked."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted


def unlock_logins(employees: QuerySet[Employee]) -> int:
    """Lift the login lockouts (django-axes, at every address) of these employees' accounts; returns
    how many locked attempts were removed. The caller scopes the employees (the admin's queryset)."""
    usernames = employees.filter(user__isnull=False).values_list("user__username", flat=True)
    return sum(axes_reset(username=username) for username in usernames)
