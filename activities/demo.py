"""The demo district's 年度活动与通知 (seed_demo calls seed_activities): a year of activities and
trainings for 路桥区, a campaign (吃拿卡要专项治理) with two notices whose returns are partly late,
partly accepted, partly missing, and two showcases. Idempotent: keyed by the campaign's title."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from institutions.models import District, Employee, Institution

from . import services
from .models import ActivityKind, Campaign, KindCategory, ReturnStatus

DEMO_DISTRICT = "331004"
DEMO_YEAR = 2026
CAMPAIGN_TITLE = "【演示】吃拿卡要问题专项治理"

ACTIVITIES = (
    # (category, title, month, day, place, clause number)
    (KindCategory.COMMITMENT, "全员签订廉洁从业承诺书", 1, 15, "本行会议室", "1.2"),
    (KindCategory.WARNING_EDUCATION, "参观清廉金融警示教育展", 3, 12, "路桥区廉政教育基地", "2.1"),
    (KindCategory.CULTURE, "清风墙揭牌", 4, 20, "营业大厅", "1.1"),
    (KindCategory.FAMILY_VISIT, "中秋前廉洁家访", 9, 10, "员工家中", "1.3"),
    (KindCategory.CULTURE, "廉洁文化进网点读书会", 6, 18, "网点职工书屋", "1.1"),
    (KindCategory.OTHER, "客户经理廉政风险点梳理会", 7, 8, "本行会议室", "2.1"),
)
TRAININGS = (
    ("廉洁从业与合规经营专题培训", 3, 20, Decimal("4"), False),
    ("典型案例警示教育", 6, 25, Decimal("3"), True),
    ("新员工廉洁第一课", 9, 15, Decimal("2"), False),
)
SHOWCASES = (
    ("LQ-B01", "清廉金融 阳光信贷", "按“五要有”“六公开”“九严禁”梳理客户经理岗位廉政风险点，开展信贷业务大排查。",
     "违规人次同比下降50%以上，全年未发生员工被信访举报事件。"),
    ("LQ-I01", "清廉码上理赔", "理赔后推送“清廉码”问卷，码上评价、码上监督理赔人员是否存在吃拿卡要。",
     "理赔满意度提升，投诉数量明显下降。"),
)


def _kind(district: District, category: str) -> ActivityKind:
    return ActivityKind.objects.filter(district=district, category=category).order_by("position", "pk").first()


def _clause(district: District, number: str):
    return services.clauses_for(district.pk, DEMO_YEAR).filter(number=number).first()


def seed_activities() -> str:
    """Create the demo data once (idempotent); return a one-line summary, or "" for nothing."""
    district = District.objects.filter(code=DEMO_DISTRICT).first()
    User = get_user_model()
    finance = User.objects.filter(username="finance").first()
    if district is None or finance is None or Campaign.objects.filter(title=CAMPAIGN_TITLE).exists():
        return ""
    institutions = list(Institution.objects.filter(district=district, is_active=True).order_by("code"))
    if not institutions:
        return ""
    services.ensure_catalogue(district)
    filer_of = _writers(institutions)
    counts = {"activities": 0, "trainings": 0, "returns": 0}
    with transaction.atomic():
        for n, inst in enumerate(institutions[:12]):
            writer = filer_of.get(inst.pk)
            if writer is None:
                continue
            employees = list(Employee.objects.filter(institution=inst, is_active=True).order_by("employee_no")[:20])
            for i, (category, title, month, day, place, clause_no) in enumerate(ACTIVITIES):
                if (i + n) % 3 == 2 and inst.code != "LQ-B01":
                    continue  # not every institution does everything
                clause = _clause(district, clause_no)
                services.record_activity(writer, inst, services.ActivityInput(
                    kind_id=_kind(district, category).pk, title=title, held_on=dt.date(DEMO_YEAR, month, day),
                    place=place, organiser=f"{inst.short_name or inst.name}清廉金融工作小组",
                    participant_ids=[e.pk for e in employees[: 8 + i]], participant_count=len(employees[: 8 + i]),
                    description=f"{inst.name}{title}。", clause_ids=[clause.pk] if clause else []))
                counts["activities"] += 1
            for j, (title, month, day, hours, warning) in enumerate(TRAININGS):
                clause = _clause(district, "2.1" if warning else "1.2")
                session = services.record_training(writer, inst, services.TrainingInput(
                    title=title, held_on=dt.date(DEMO_YEAR, month, day), hours=hours, trainer="区金融工作中心",
                    is_warning_education=warning, clause_ids=[clause.pk] if clause else []))
                present = [e.pk for k, e in enumerate(employees) if (k + j + n) % 4 != 0]
                services.set_attendance(writer, session, present)
                counts["trainings"] += 1
        for code, title, goals, results in SHOWCASES:
            inst = next((i for i in institutions if i.code == code), None)
            if inst is None or inst.pk not in filer_of:
                continue
            clause = _clause(district, "1.1")
            action = services.save_action(filer_of[inst.pk], inst, services.ActionInput(
                year=DEMO_YEAR, title=title, goals=goals, results=results, status="done",
                clause_ids=[clause.pk] if clause else []))
            services.mark_showcase(finance, action, True, "全区推广的清廉金融样板。")
        today = timezone.localdate()
        campaign = services.create_campaign(finance, services.CampaignInput(
            title=CAMPAIGN_TITLE, kind="governance", starts_on=dt.date(DEMO_YEAR, 3, 1),
            ends_on=dt.date(DEMO_YEAR, 12, 31), district_code=DEMO_DISTRICT,
            description="聚焦理赔、信贷等关键环节，排查吃拿卡要、违规收费问题。"))
        clause = _clause(district, "2.1")
        # The first notice's returns were due weeks ago: those made now are late, the rest overdue.
        early = services.publish_notice(finance, services.NoticeInput(
            title="关于开展吃拿卡要问题自查的通知", body="各机构对照负面行为清单开展自查，报送自查报告。",
            return_kind="form", return_within=10, return_instructions="报送自查情况及整改措施。",
            campaign_id=campaign.pk, clause_id=clause.pk if clause else None, district_code=DEMO_DISTRICT),
            today=today - dt.timedelta(days=40))
        # The second is open: some have returned in time, some not yet.
        late = services.publish_notice(finance, services.NoticeInput(
            title="关于报送专项治理阶段性成效的通知", body="请报送专项治理开展情况及典型做法。",
            return_kind="form", return_within=15, return_instructions="不超过1000字。",
            campaign_id=campaign.pk, clause_id=clause.pk if clause else None, district_code=DEMO_DISTRICT))
        services.publish_notice(finance, services.NoticeInput(
            title="印发《路桥区清廉金融实施方案》的通知",
            body="现将《路桥区清廉金融实施方案》印发给你们，请认真贯彻落实。",
            district_code=DEMO_DISTRICT))
        for notice, share in ((early, 2), (late, 3)):
            for k, receipt in enumerate(notice.recipients.select_related("institution").order_by("institution__code")):
                writer = filer_of.get(receipt.institution_id)
                if writer is None or k % share == share - 1:
                    continue
                receipt = services.submit_return(writer, receipt, f"{receipt.institution.name}已完成自查，未发现问题。")
                counts["returns"] += 1
                if k % 4 == 0 and receipt.return_status == ReturnStatus.SUBMITTED:
                    services.decide_return(finance, receipt, True)
                elif k % 4 == 1:
                    services.decide_return(finance, receipt, False, "请补充整改台账。", 5)
    return (f"年度活动：{counts['activities']} 项活动，{counts['trainings']} 场培训，1 个专项行动、3 份通知、"
            f"{counts['returns']} 份报送（部分逾期），{len(SHOWCASES)} 个样板")


def _writers(institutions) -> dict[int, object]:
    """A filer (or head) per institution; institutions without one get a demo filer account."""
    from institutions.models import Membership, Role

    User = get_user_model()
    out = {}
    for m in (Membership.objects.filter(institution__in=institutions,
                                        role__in=[Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD])
              .select_related("user").order_by("role", "pk")):
        out.setdefault(m.institution_id, m.user)
    for inst in institutions[:12]:
        if inst.pk not in out:
            user, created = User.objects.get_or_create(username=f"demo_filer_{inst.code.lower()}")
            if created:
                user.set_unusable_password()
                user.save()
            Membership.objects.get_or_create(user=user, institution=inst, role=Role.INSTITUTION_FILER)
            out[inst.pk] = user
    return out
