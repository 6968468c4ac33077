"""The programme calendar of a district-year: the filing window and review deadline, the notice
period, campaigns, notices' return deadlines and (for the finance center only) the inspection plan's
visits, by month. Shown on a page and as an iCalendar feed (rules.ics_calendar)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from institutions import access

from . import rules, selectors


@dataclass(frozen=True)
class Event:
    uid: str
    start: dt.date
    end: dt.date
    kind: str
    title: str
    detail: str = ""


def district_for(user, code: str = "", district_id: int | None = None):
    """A district whose calendar the user may read (finance center's, or their own institution's)."""
    districts = access.visible_districts(user)
    if district_id is not None:
        return districts.filter(pk=district_id).first()
    return districts.filter(code=code).first() if code else districts.first()


def events(user, district, year: int) -> list[Event]:
    from scoring.models import DistrictYear, Scheme

    out: list[Event] = []
    scheme = (Scheme.objects.filter(year=year, district=district).first()
              or Scheme.objects.filter(year=year, district__isnull=True).first())
    if scheme is not None:
        if scheme.self_due_date:
            opened = min(timezone.localtime(scheme.created_at).date(), scheme.self_due_date)
            out.append(Event(f"self-{district.pk}-{year}@activities", opened, scheme.self_due_date, _("评价"),
                             _("{year} 年度机构自评填报").format(year=year),
                             _("自评截止日 {day}").format(day=f"{scheme.self_due_date:%Y-%m-%d}")))
        if scheme.review_due_date:
            out.append(Event(f"review-{district.pk}-{year}@activities", scheme.review_due_date,
                             scheme.review_due_date, _("评价"), _("{year} 年度考评截止").format(year=year)))
    dy = DistrictYear.objects.filter(district=district, year=year).first()
    if dy is not None and dy.notice_ends_on:
        out.append(Event(f"notice-{district.pk}-{year}@activities", dy.notice_ends_on, dy.notice_ends_on, _("公示"),
                         _("{year} 年度结果公示截止").format(year=year)))
    for c in selectors.campaigns(user).filter(district=district, starts_on__lte=dt.date(year, 12, 31),
                                              ends_on__gte=dt.date(year, 1, 1)):
        out.append(Event(f"campaign-{c.pk}@activities", c.starts_on, c.ends_on, c.get_kind_display(), c.title))
    for n in selectors.notices(user).filter(district=district, return_due_on__year=year):
        out.append(Event(f"notice-return-{n.pk}@activities", n.return_due_on, n.return_due_on, _("报送"),
                         _("报送截止：{title}").format(title=n.title)))
    if access.is_finance_center(user, district.pk):
        # Planned visits (inspections' plan, by month): the finance center's only, never the institutions'.
        from inspections.models import PlanEntry

        for entry in (PlanEntry.objects.filter(plan__district=district, plan__year=year)
                      .select_related("institution").order_by("month", "pk")):
            if not 1 <= entry.month <= 12:
                continue
            start = dt.date(year, entry.month, 1)
            following = dt.date(year + 1, 1, 1) if entry.month == 12 else dt.date(year, entry.month + 1, 1)
            end = following - dt.timedelta(days=1)
            out.append(Event(f"visit-plan-{entry.pk}@activities", start, end, _("督查"),
                             _("计划督查：{institution}（{kind}）").format(institution=entry.institution.name,
                                                                     kind=entry.get_kind_display()), entry.team))
    return sorted(out, key=lambda e: (e.start, e.end, e.uid))


def ics(user, district, years) -> str:
    all_events = [e for y in years for e in events(user, district, y)]
    return rules.ics_calendar(_("{district}清廉金融工作日历").format(district=district.name),
                              [(e.uid, e.start, e.end, f"[{e.kind}] {e.title}", e.detail) for e in all_events],
                              timezone.now())
