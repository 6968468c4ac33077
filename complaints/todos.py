"""Complaints' to-do counts on the role home (core.portal.register_todo, registered in apps.py):
overdue and due-soon cases of the user's queue, each one COUNT through selectors.case_list."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import selectors


def overdue(user) -> int:
    return selectors.case_list(user, overdue=True).order_by().count()


def due_soon(user) -> int:
    return selectors.case_list(user, due="soon").order_by().count()


def register() -> None:
    from core import portal

    portal.register_todo("complaints.overdue", _("已超期的投诉举报"), overdue,
                         lambda user: reverse("complaints:queue") + "?overdue=1", selectors.can_use_queue,
                         order=20, urgent=True)
    portal.register_todo("complaints.due_soon", _("即将到期的投诉举报"), due_soon,
                         lambda user: reverse("complaints:queue") + "?due=soon", selectors.can_use_queue, order=21)
