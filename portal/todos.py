"""To-do counts of the programme's apps that do not register their own (core.portal.register_todo),
plugged in at the project level, which may read every app's selectors: tracked items (督办事项,
rectification of inspection findings included) to reply to, to review and overdue."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from institutions import access
from institutions.models import Role


def _items(user, status: str) -> int:
    from tracking import selectors

    return selectors.filter_status(selectors.visible_items(user), status).order_by().count()


def _url(status: str):
    return lambda user: reverse("tracking:items") + f"?status={status}"


def _institution_staff(user) -> bool:
    return bool(access.member_institution_ids(user, Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD))


def register() -> None:
    from core import portal

    portal.register_todo("tracking.to_reply", _("待本机构回复的督办事项（含整改）"), lambda u: _items(u, "open"),
                         _url("open"), _institution_staff, order=15, hint=lambda u: _("请在期限内报送办理情况"))
    portal.register_todo("tracking.to_review", _("机构已回复、待审核的督办事项"), lambda u: _items(u, "reported"),
                         _url("reported"), access.is_finance_center, order=45)
    portal.register_todo("tracking.overdue", _("逾期未办结的督办事项（含整改）"), lambda u: _items(u, "overdue"),
                         _url("overdue"), lambda u: access.is_finance_center(u) or _institution_staff(u),
                         order=16, urgent=True)
