"""The portal's sections, shown as tiles on the home page.

Each app registers its own sections in its AppConfig.ready() (a URL name, a label, who may use it),
so the home page lists what the signed-in user can use without importing any feature app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class PortalLink:
    url_name: str
    label: str
    visible: Callable[[object], bool]  # user -> may use this section
    order: int  # position on the home page, smallest first


_links: dict[str, PortalLink] = {}


def register(url_name: str, label, *, visible: Callable[[object], bool], order: int = 100) -> None:
    """Add a section (again registering a URL name replaces it, so ready() may run twice)."""
    _links[url_name] = PortalLink(url_name, label, visible, order)


def links_for(user) -> list[dict]:
    """The sections `user` may use, in order: [{"url": ..., "label": ...}]."""
    shown = sorted((link for link in _links.values() if link.visible(user)), key=lambda link: link.order)
    return [{"url": reverse(link.url_name), "label": link.label} for link in shown]


def registered() -> list[PortalLink]:
    return sorted(_links.values(), key=lambda link: link.order)
