"""Asking one cell of the matrix: a request as one role, its outcome in one word, and whether a refused
write left the database as it was.

Outcomes: "ok" (2xx), "redirect" (3xx elsewhere than a login page), "login" (3xx to a login page),
"invalid" (400/409/413: past the authorization, refused on the input or the state), "auth" (401),
"deny" (403), "nf" (404), "405", "429", "500"... A write whose database check failed gets
"+db(<tables>)" appended, and a 2xx answer showing what the role may not see "+leak(<what>)"
(leaks.py): either way the outcome matches no expectation.

The database check: every cell runs in a savepoint that is rolled back afterwards. On PostgreSQL the
check reads which tables the request wrote to (pg_stat_xact_user_tables counts inserts, updates and
deletes in the transaction, rolled-back subtransactions included) and compares the content hash of
each such table with its hash before the module's first request: a view that wrote and then rolled
its own savepoint back has changed nothing. Elsewhere (SQLite) every table's content is hashed
before and after.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import urlsplit

from django.db import DatabaseError, connection, transaction

LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
READ = "GET"

# What each expectation token accepts. "ok" is the role's business: a read answers 2xx (or redirects
# somewhere other than a login page); a write is past the authorization (2xx/3xx, or 400/409 for a
# minimal body or the object's state).
ACCEPT = {
    "ok": {READ: {"ok", "redirect"}, "write": {"ok", "redirect", "invalid"}},
    # No credentials: pages send to the login page, the API answers 401 (and the admin sends users who
    # are not staff to its login page).
    "login": {"login", "auth"},
    "deny": {"deny"},
    "nf": {"nf"},
    "no": {"deny", "nf"},  # the role may not use the route at all (refused before the object counts)
    # Refused inside the role's scope: 403, a 4xx for the state, 404, or the page's redirect back with
    # an error message; the database unchanged in every case.
    "refused": {"deny", "invalid", "nf", "redirect"},
    "pick": {"invalid"},  # the API, several districts and none named: 400 asking for one (API.md)
    "choose": {"ok", "redirect", "invalid"},  # a page, several districts and none named: a chooser or a 400
}
REFUSALS = {"login", "deny", "nf", "no", "refused", "pick"}


def accepts(token: str, method: str, outcome: str) -> bool:
    allowed = ACCEPT[token]
    if isinstance(allowed, dict):
        allowed = allowed[READ if method == READ else "write"]
    return outcome in allowed


def classify(response) -> str:
    status = response.status_code
    if 300 <= status < 400:
        path = urlsplit(response.get("Location", "")).path
        return "login" if path in LOGIN_PATHS else "redirect"
    if 200 <= status < 300:
        return "ok"
    if status in (400, 409, 413):
        return "invalid"
    return {401: "auth", 403: "deny", 404: "nf"}.get(status, str(status))


class Fingerprint:
    """Detects a change of any table's content made by one request (see the module docstring)."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.tables = connection.introspection.table_names()
        self.baseline = {t: self.table_hash(t) for t in self.tables} if self.postgres else {}

    def table_hash(self, table: str) -> str:
        quoted = connection.ops.quote_name(table)
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(f"SELECT md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), '')) "
                               f"FROM {quoted} t")
                return cursor.fetchone()[0]
            cursor.execute(f"SELECT * FROM {quoted}")
            rows = sorted(repr(row) for row in cursor.fetchall())
        return hashlib.md5("\n".join(rows).encode()).hexdigest()

    def before(self):
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
                return dict(cursor.fetchall())
        return {t: self.table_hash(t) for t in self.tables}

    def changed(self, before) -> list[str]:
        if not self.postgres:
            return sorted(t for t, h in self.before().items() if before.get(t) != h)
        touched = [t for t, n in self.before().items() if n != before.get(t, 0)]
        return sorted(t for t in touched if self.table_hash(t) != self.baseline.get(t))


def request(client, method: str, url: str, body: dict | None, api: bool):
    if method == READ:
        return client.get(url)
    if api:
        return client.generic(method, url, json.dumps(body or {}), content_type="application/json")
    if method == "POST":
        return client.post(url, body or {})
    return client.generic(method, url, "", content_type="application/x-www-form-urlencoded")


def ask(client, fingerprint: Fingerprint, method: str, url: str, body: dict | None, *, api: bool,
        refusal_expected: bool) -> tuple[str, object]:
    """(outcome, response) of one request, rolled back whatever it did."""
    with transaction.atomic():
        before = fingerprint.before() if method != READ else None
        response = request(client, method, url, body, api)
        outcome = classify(response)
        if method != READ and (refusal_expected or outcome not in ("ok", "redirect")):
            try:
                changed = fingerprint.changed(before)
            except DatabaseError:  # the view broke the transaction: the savepoint goes anyway
                changed = ["<transaction aborted>"]
            if changed:
                outcome += f"+db({','.join(changed)})"
        transaction.set_rollback(True)
    return outcome, response


class Matrix:
    """The world, one logged-in client per role, and the database check: asks cells."""

    def __init__(self, world, clients, fingerprint: Fingerprint) -> None:
        self.world = world
        self.clients = clients
        self.fingerprint = fingerprint

    def ask(self, key: str, route, role: str, method: str, target: str, token: str) -> tuple[str, object]:
        """The outcome of one cell; "+leak(...)" appended when a 2xx answer shows what the role may
        not see (leaks.py; public routes and the identity reveal are not scanned)."""
        from .leaks import leaks

        url = route.url(self.world, key, target)
        body = route.data(self.world, target) if method != READ else None
        outcome, response = ask(self.clients[role], self.fingerprint, method, url, body,
                                api=key.startswith("api:"), refusal_expected=token in REFUSALS)
        if outcome == "ok" and not route.public and not route.shows_identity:
            shown = leaks(role, response)
            if shown:
                outcome += f"+leak({', '.join(shown)})"
        return outcome, response
