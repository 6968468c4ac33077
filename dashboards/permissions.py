"""Who may see which dashboard, on top of institutions.access (the one scoping mechanism).

- the district dashboard and its drill-downs: the finance center (and superusers);
- the city roll-up: the finance center and city users (district aggregates only);
- an institution's dashboard: the finance center, and that institution's head. Any other
  institution's code answers 404 for a head, exactly as if it did not exist; users with no
  dashboard role at all get 403 whatever the code, which tells them nothing either.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from institutions import access
from institutions.models import Institution, Role


def can_see_district(user) -> bool:
    return access.is_finance_center(user)


def can_see_city(user) -> bool:
    return access.is_finance_center(user) or access.has_role(user, Role.CITY)


def is_head(user) -> bool:
    return access.has_role(user, Role.INSTITUTION_HEAD) and access.institution_ids(user) is not None


def can_use_institution_dashboards(user) -> bool:
    return access.is_finance_center(user) or is_head(user)


def institution_for(user, code: str) -> Institution:
    """The institution whose dashboard `user` asks for: PermissionDenied without a role, Http404 outside scope."""
    if not can_use_institution_dashboards(user):
        raise PermissionDenied("只有区金融工作中心和机构负责人可以查看机构看板。")
    qs = Institution.objects.select_related("district", "district__parent")
    if not access.is_finance_center(user):
        qs = qs.filter(pk__in=access.institution_ids(user) or ())
    institution = qs.filter(code=code).first()
    if institution is None:
        raise Http404("未找到，或您无权查看。")
    return institution


def own_institution(user) -> Institution | None:
    """The institution a head lands on (their lowest code)."""
    if not is_head(user):
        return None
    return access.primary_institution(user)
