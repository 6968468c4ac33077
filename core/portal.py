"""The portal's shell: its sections (home tiles and the navigation bar) and the to-do counts of the
role home page.

Each app registers its own sections and counters in its AppConfig.ready(), so the shell lists what
the signed-in user can use and what waits for them without importing any feature app:

- `register(url_name, label, visible=..., order=...)`: a section, shown as a home tile and in the
  navigation bar (`nav=False` keeps it off the bar);
- `register_todo(key, label, count_fn, url, visible, order=..., hint=...)`: a to-do count on the
  home page ("3 件投诉已超期"), linking to the filtered list. `count_fn(user)` must be one cheap
  query (a COUNT) through the app's selectors; `url` is a URL (or a URL name) or `user -> URL`;
  `hint(user)` optionally says who acts and by when ("由机构负责人提交，截止 12月31日").

A counter that fails is logged and left out: the home page never breaks because one app did.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PortalLink:
    url_name: str
    label: str
    visible: Callable[[object], bool]  # user -> may use this section
    order: int  # position on the home page, smallest first
    nav: bool = True  # also in the navigation bar


@dataclass(frozen=True)
class Todo:
    key: str
    label: object  # a (lazy) Chinese label: "超期未办结的投诉举报"
    count: Callable[[object], int]
    url: str | Callable[[object], str]
    visible: Callable[[object], bool]
    order: int = 100
    hint: Callable[[object], str] | None = None
    urgent: bool = False  # shown in red when the count is not zero


_links: dict[str, PortalLink] = {}
_todos: dict[str, Todo] = {}


def register(url_name: str, label, *, visible: Callable[[object], bool], order: int = 100, nav: bool = True) -> None:
    """Add a section (again registering a URL name replaces it, so ready() may run twice)."""
    _links[url_name] = PortalLink(url_name, label, visible, order, nav)


def _visible(check: Callable[[object], bool], user) -> bool:
    try:
        return bool(check(user))
    except Exception:  # a broken check hides its own entry, never the page
        logger.exception("portal visibility check failed")
        return False


def links_for(user) -> list[dict]:
    """The sections `user` may use, in order: [{"url": ..., "label": ..., "nav": ...}]."""
    shown = sorted((link for link in _links.values() if _visible(link.visible, user)), key=lambda link: link.order)
    out = []
    for link in shown:
        try:
            url = reverse(link.url_name)
        except NoReverseMatch:  # an app registered a page it does not route (yet): leave it out
            logger.warning("portal section %s has no URL", link.url_name)
            continue
        out.append({"url": url, "label": link.label, "nav": link.nav, "url_name": link.url_name})
    return out


def registered() -> list[PortalLink]:
    return sorted(_links.values(), key=lambda link: link.order)


def register_todo(key: str, label, count_fn: Callable[[object], int], url: str | Callable[[object], str],
                  visible: Callable[[object], bool], *, order: int = 100,
                  hint: Callable[[object], str] | None = None, urgent: bool = False) -> None:
    """Add a to-do counter (again registering a key replaces it)."""
    _todos[key] = Todo(key, label, count_fn, url, visible, order, hint, urgent)


def registered_todos() -> list[Todo]:
    return sorted(_todos.values(), key=lambda todo: todo.order)


def _url(todo: Todo, user) -> str:
    if callable(todo.url):
        return todo.url(user)
    if todo.url.startswith("/"):
        return todo.url
    try:
        return reverse(todo.url)
    except NoReverseMatch:
        return todo.url


def todos_for(user) -> list[dict]:
    """The user's to-do counts, in order: [{"key", "label", "count", "url", "hint", "urgent"}].
    Zero counts are kept (the page says "无" rather than hiding the line), so a user sees what is
    watched for them."""
    rows = []
    for todo in registered_todos():
        if not _visible(todo.visible, user):
            continue
        try:
            count = int(todo.count(user))
            url = _url(todo, user)
            hint = todo.hint(user) if todo.hint else ""
        except Exception:
            logger.exception("portal to-do %s failed", todo.key)
            continue
        rows.append({"key": todo.key, "label": todo.label, "count": count, "url": url, "hint": hint,
                     "urgent": todo.urgent and count > 0})
    return rows


def section_for(path: str, links: list[dict]) -> dict | None:
    """The section a page belongs to (the registered link whose URL is the longest prefix of the
    path, the home page excluded), for the breadcrumbs and the navigation bar's current entry."""
    best = None
    for link in links:
        url = link["url"]
        if url != "/" and path.startswith(url) and (best is None or len(url) > len(best["url"])):
            best = link
    return best


# The page shell keeps each session's sections from its login on (core/shell.py connects itself).
from . import shell  # noqa: E402,F401
