"""The page shell's context (templates/base.html): the navigation bar by role and the breadcrumbs'
section, from the portal registry (core/portal.py). Computed only when a page renders them.

Which sections a user may use costs a few queries (roles, memberships, each app's check); the
answer is kept in the session for NAV_SECONDS (URL names only: labels and URLs come from the
registry at each render, in the page's language), so a page costs no query for its navigation bar.
The session gets it at login (a cache warmed with the login's own user, no rule of its own), so
even the first page after login costs nothing more. A change of anyone's roles (a district grant,
a membership, an employee record's account, a user's groups or superuser flag: `roles_changed()`,
called where they change) puts a new token in the cache, and every kept answer made under another
token is worked out again on the next page: a role given or taken shows in the navigation at once,
not up to NAV_SECONDS later (one cache read a page; a token, not a time, so that the clocks of
several web machines need not agree)."""

from __future__ import annotations

import secrets
import time
from functools import cached_property

from django.contrib.auth.signals import user_logged_in
from django.urls import NoReverseMatch, reverse

from . import portal

SESSION_KEY = "_shell_nav"
NAV_SECONDS = 300
ROLES_STAMP_KEY = "core.shell.roles-changed-at"


def roles_changed() -> None:
    """Someone's roles changed: the navigation kept in every session is worked out again."""
    from django.core.cache import cache

    cache.set(ROLES_STAMP_KEY, secrets.token_hex(8), None)


def _roles_stamp() -> str:
    """The current token ("" when none was set, or the cache cannot be read: then a kept answer made
    under a token is worked out again, and one made without stands, as its age still bounds it)."""
    from django.core.cache import cache

    try:
        return str(cache.get(ROLES_STAMP_KEY) or "")
    except Exception:
        return ""


class Shell:
    def __init__(self, request):
        self.request = request

    def _user(self):
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None

    @cached_property
    def links(self) -> list[dict]:
        user = self._user()
        if user is None:
            return []
        session = getattr(self.request, "session", None)
        stored = session.get(SESSION_KEY) if session is not None else None
        now = time.time()
        stamp = _roles_stamp()  # read before the roles are: a change meanwhile is seen on the next page
        if (isinstance(stored, dict) and stored.get("user") == user.pk and now - stored.get("at", 0) < NAV_SECONDS
                and isinstance(stored.get("names"), list) and stored.get("stamp", "") == stamp):
            return self._from_names(stored["names"])
        links = portal.links_for(user)
        if session is not None:
            session[SESSION_KEY] = {"user": user.pk, "at": now, "stamp": stamp,
                                    "names": [link["url_name"] for link in links]}
        return links

    @staticmethod
    def _from_names(names: list[str]) -> list[dict]:
        registered = {link.url_name: link for link in portal.registered()}
        out = []
        for name in names:
            link = registered.get(name)
            if link is None:
                continue
            try:
                url = reverse(name)
            except NoReverseMatch:
                continue
            out.append({"url": url, "label": link.label, "nav": link.nav, "url_name": name})
        return out

    @property
    def min_sample(self) -> int:
        """The smallest number of answers a rate is shown on (charts read it from <html>)."""
        from django.conf import settings

        return int(getattr(settings, "CHARTS_MIN_SAMPLE", 5))

    @cached_property
    def nav(self) -> list[dict]:
        return [link for link in self.links if link["nav"]]

    @cached_property
    def section(self) -> dict | None:
        return portal.section_for(self.request.path, self.links)


def shell(request) -> dict:
    """Context processor (settings: TEMPLATES' context_processors)."""
    return {"shell": Shell(request)}


def remember_nav(sender, request, user, **kwargs):
    """user_logged_in receiver: keep the sections the user may use in the new session."""
    session = getattr(request, "session", None)
    if session is None or user is None:
        return
    stamp = _roles_stamp()
    names = [link["url_name"] for link in portal.links_for(user)]
    session[SESSION_KEY] = {"user": user.pk, "at": time.time(), "stamp": stamp, "names": names}


user_logged_in.connect(remember_nav, dispatch_uid="core.shell.remember_nav")
