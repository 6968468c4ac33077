"""Scoring's to-do counts on the role home (core.portal.register_todo, registered in apps.py): one
COUNT each, for the year the pages open on (selectors.current_year)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from institutions import access
from institutions.models import Role

from . import selectors
from .models import Assessment, Assignment, DistrictYear, ObjectionStatus, ScoreSheet, SheetStatus, Source, YearStatus


def _year() -> int | None:
    return selectors.current_year()


def _submitted(source: str):
    return Exists(ScoreSheet.objects.filter(assessment=OuterRef("pk"), source=source, status=SheetStatus.SUBMITTED))


def _open_assessments(year: int):
    """Assessments of districts whose year is still open for filing."""
    open_years = DistrictYear.objects.filter(year=year, status=YearStatus.OPEN,
                                             district_id=OuterRef("institution__district_id"))
    return Assessment.objects.filter(year=year).filter(Exists(open_years))


def _finance_assessments(user, year: int):
    qs = _open_assessments(year)
    ids = access.district_ids(user, Role.FINANCE_CENTER)
    return qs if ids is None else qs.filter(institution__district_id__in=ids)


def _year_url(_user) -> str:
    year = _year()
    return reverse("scoring:year-overview", kwargs={"year": year}) if year else reverse("scoring:home")


def _date(value) -> str:
    return formats.date_format(value, "SHORT_DATE_FORMAT") if value else ""


def unsubmitted_count(source: str):
    def count(user) -> int:
        year = _year()
        if year is None:
            return 0
        return _finance_assessments(user, year).exclude(_submitted(source)).count()
    return count


def pending_objections(user) -> int:
    return selectors.finance_objections(user).filter(status=ObjectionStatus.PENDING).count()


def objections_url(_user) -> str:
    year = _year()
    if year is None:
        return reverse("scoring:home")
    return reverse("scoring:objections", kwargs={"year": year}) + f"?status={ObjectionStatus.PENDING}"


def own_self_unsubmitted(user) -> int:
    year = _year()
    if year is None:
        return 0
    return (_open_assessments(year).filter(institution_id__in=access.own_institution_ids(user))
            .exclude(_submitted(Source.SELF)).count())


def own_self_hint(user) -> str:
    """Who submits the self-assessment and by when."""
    year = _year()
    due = (Assessment.objects.filter(year=year, institution_id__in=access.own_institution_ids(user))
           .values_list("scheme__self_due_date", flat=True).first()) if year else None
    heads = access.headed_institution_ids(user)
    who = _("请核对后提交") if heads else _("填报员填写并保存草稿，由机构负责人提交")
    return f"{who}，{_('截止')} {_date(due)}" if due else who


def assigned_unsubmitted(user) -> int:
    year = _year()
    if year is None:
        return 0
    sheets = _open_assessments(year).filter(institution_id=OuterRef("institution_id"))
    pending = Assignment.objects.filter(user=user, year=year).filter(Exists(sheets))
    done = ScoreSheet.objects.filter(assessment__year=year, assessment__institution_id=OuterRef("institution_id"),
                                     source=OuterRef("source"), status=SheetStatus.SUBMITTED)
    return pending.exclude(Exists(done)).count()


def assigned_hint(user) -> str:
    year = _year()
    due = (Assignment.objects.filter(user=user, year=year)
           .values_list("institution__assessments__scheme__review_due_date", flat=True).first()) if year else None
    return f"{_('截止')} {_date(due)}" if due else ""


def is_finance(user) -> bool:
    return access.is_finance_center(user)


def is_institution_staff(user) -> bool:
    return bool(access.user_roles(user) & {Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD})


def is_reviewer(user) -> bool:
    return bool(access.user_roles(user) & {Role.INSPECTOR, Role.THIRD_PARTY})


def register() -> None:
    from core import portal

    labels = {Source.SELF: gettext_lazy("未提交的机构自评表"), Source.INSPECTION: gettext_lazy("未提交的检查组考评表"),
              Source.THIRD_PARTY: gettext_lazy("未提交的第三方测评表")}
    for order, source in enumerate(Source.values):
        portal.register_todo(f"scoring.unsubmitted.{source}", labels[source], unsubmitted_count(source), _year_url,
                             is_finance, order=30 + order)
    portal.register_todo("scoring.objections", gettext_lazy("待处理的异议"), pending_objections, objections_url,
                         is_finance, order=25, urgent=True)
    portal.register_todo("scoring.own_self", gettext_lazy("本机构待提交的自评表"), own_self_unsubmitted,
                         "scoring:home", is_institution_staff, order=10, hint=own_self_hint)
    portal.register_todo("scoring.assigned", gettext_lazy("分配给我、尚未提交的评分表"), assigned_unsubmitted,
                         "scoring:home", is_reviewer, order=10, hint=assigned_hint)
