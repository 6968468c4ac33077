"""The demo district's 督查与整改 (seed_demo calls seed_inspections): 路桥区's 2026 plan and a year of
visits (planned, unannounced, follow-up, some joint with the discipline commission), their findings
on the 2026 norms, and rectifications in every state: closed on time and late, reported and waiting,
returned, open and not yet due, and overdue. Idempotent: nothing is added once the demo visits exist."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from institutions.models import District, Institution
from scoring.models import NormClause
from tracking.models import Event, Reply, TrackedItem

from . import services
from .models import Finding, PlanEntry, Visit

DEMO_DISTRICT = "331004"
YEAR = 2026
MARK = "【演示】"
PROBLEMS = [
    "营业厅未公示廉洁从业承诺及举报二维码",
    "礼品礼金登记簿未按月登记，部分接受礼品未上交",
    "员工行为排查台账缺少第三季度记录",
    "“三重一大”事项会议纪要缺少参会人员表决意见",
    "廉洁风险点排查未覆盖信贷审批岗位",
    "警示教育活动未留存签到及影像资料",
    "员工亲属经商办企业情况未按要求申报",
    "信贷人员轮岗制度执行不到位，个别岗位超过五年未轮岗",
]
TEAMS = [["王建国", "陈思远"], ["李慧", "周明"], ["张晓东", "林静", "吴波"]]


def _at(day: date, hour: int = 10):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _backdate(finding: Finding, *, reported_on: date | None = None, closed_on: date | None = None) -> None:
    item = finding.tracked_item
    if reported_on:
        Reply.objects.filter(item=item).update(created_at=_at(reported_on), on_time=reported_on <= item.due_on)
        Event.objects.filter(item=item, action=Event.Action.REPORTED).update(at=_at(reported_on))
        TrackedItem.objects.filter(pk=item.pk).update(reported_at=_at(reported_on))
    if closed_on:
        TrackedItem.objects.filter(pk=item.pk).update(closed_at=_at(closed_on, 15),
                                                      closed_on_time=bool(reported_on and reported_on <= item.due_on))
        Event.objects.filter(item=item, action=Event.Action.ACCEPTED).update(at=_at(closed_on, 15))


@transaction.atomic
def seed_inspections() -> str:
    district = District.objects.filter(code=DEMO_DISTRICT).first()
    if district is None or Visit.objects.filter(district=district, notes__startswith=MARK).exists():
        return ""
    User = get_user_model()
    finance = User.objects.filter(username="finance").first()
    inspector = User.objects.filter(username="inspector").first() or finance
    if finance is None or not NormClause.objects.filter(norms__year=YEAR, norms__district__isnull=True).exists():
        return ""
    clauses = list(NormClause.objects.filter(norms=services.norms_for(district.pk, YEAR))
                   .order_by("item__number", "position").values_list("number", flat=True))
    institutions = list(Institution.objects.filter(district=district, code__startswith="LQ-").order_by("code"))[:14]
    if not institutions or not clauses:
        return ""
    rng = random.Random(13)
    today = timezone.localdate()

    plan = services.create_plan(finance, district, YEAR, f"路桥区{YEAR}年度清廉金融常态化督查计划")
    for index, institution in enumerate(institutions):
        PlanEntry.objects.get_or_create(plan=plan, institution=institution, month=1 + (index * 11) // len(institutions),
                                        defaults={"team": "第{}检查组".format("一二三"[index % 3]),
                                                  "joint_with_discipline": index % 4 == 0})

    visits = findings = 0
    for index, institution in enumerate(institutions):
        entry = plan.entries.filter(institution=institution).first()
        month = entry.month if entry else 1 + index % 11
        visited_on = date(YEAR, month, 8 + index % 15)
        if visited_on >= today:
            continue
        kind = "unannounced" if index % 5 == 2 else "planned"
        visit = services.record_visit(inspector, institution, services.VisitInput(
            visited_on=visited_on, kind=kind, team=TEAMS[index % 3],
            notes=f"{MARK}查阅清廉金融建设台账，走访营业网点，与员工个别谈话。",
            people_met="行长、纪检联络员", joint_with_discipline=bool(entry and entry.joint_with_discipline),
            plan_entry_id=entry.pk if entry else None))
        visits += 1
        for n in range(index % 3 + (1 if index % 4 else 0)):
            finding = services.add_finding(
                visit, inspector, clause=rng.choice(clauses), description=PROBLEMS[(index + n) % len(PROBLEMS)],
                severity="major" if (index + n) % 4 == 0 else "minor", rectify_within=rng.choice((10, 15, 20)))
            findings += 1
            due = finding.tracked_item.due_on
            fate = (index + n) % 6
            if due >= today or fate == 5:  # not yet due, or overdue and silent
                continue
            if fate in (0, 1, 2, 3):
                reporter = _reporter(institution)
                services.report(finding, reporter, system=reporter is None,
                                measures=f"{MARK}已完成整改：制定整改方案，补齐台账，开展专题警示教育。")
                reported_on = min(due - timedelta(days=3) if fate != 1 else due + timedelta(days=6), today)
                if fate == 3:
                    services.return_finding(finding, finance, reason="佐证材料不完整，请补充会议纪要及签到表。")
                    _backdate(finding, reported_on=reported_on)
                    continue
                if fate == 2:
                    _backdate(finding, reported_on=reported_on)
                    continue  # reported, waiting for review
                services.accept(finding, finance, note="整改到位，予以销号。")
                _backdate(finding, reported_on=reported_on, closed_on=min(reported_on + timedelta(days=4), today))
        if visit.findings.exists():
            services.refresh_tally(institution.pk, YEAR)
    services.recount_all()
    overdue = sum(1 for f in Finding.objects.filter(district=district, year=YEAR).select_related("tracked_item")
                  if f.tracked_item.is_overdue(today))
    return f"督查 {visits} 次，发现问题 {findings} 个（逾期未整改 {overdue} 个），年度计划 {plan.entries.count()} 家"


def _reporter(institution):
    """The institution's filer or head, if the demo gave it one; else None (the reply is then recorded
    on the institution's behalf)."""
    from institutions.models import Membership

    membership = (Membership.objects.filter(institution=institution, role__in=("institution_filer", "institution_head"))
                  .select_related("user").first())
    return membership.user if membership else None

