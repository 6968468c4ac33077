"""Demo complaints for the demo district (institutions LQ-B01…): idempotent, deterministic.

Each demo case carries a fixed submission token, so running the seeder again finds it and adds
nothing. Receipt codes of demo cases are random and not shown: demo users track the cases they
submit themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from institutions.models import Institution, Role

from . import services
from .crypto import hash_secret
from .models import Complaint, SurveyResponse

# (token, institution, kind, days ago, description, staff, named, ratings, actions [(action, data)])
_REPLY = "经核查，反映情况属实，已责成该机构对相关人员严肃处理并退还费用。感谢您的监督。"
_SUBSTANTIATED = [("accept", {}), ("verify", {}), ("conclude", {"outcome": "substantiated"}),
                  ("close", {"reply": _REPLY})]
DEMO_CASES = [
    ("demo-01", "LQ-B03", "report", 200, "办理经营贷时客户经理暗示需要请客送礼才能加快放款。", "客户经理", False,
     {}, _SUBSTANTIATED),
    ("demo-02", "LQ-B03", "complaint", 150, "贷款时被要求购买理财产品，否则不予办理（搭售）。", "", True, {},
     _SUBSTANTIATED),
    ("demo-03", "LQ-I02", "complaint", 120, "理赔时业务员要求支付“加急费”。", "业务员", False, {},
     [("accept", {}), ("verify", {}), ("conclude", {"outcome": "partially_substantiated"}),
      ("close", {"reply": "经核查，部分情况属实，已督促机构整改。"})]),
    ("demo-04", "LQ-B05", "complaint", 90, "柜台排队时间过长，窗口开放不足。", "", False, {},
     [("accept", {}), ("verify", {}), ("conclude", {"outcome": "unsubstantiated"}),
      ("close", {"reply": "经核查，当日系系统升级导致等候时间较长，未发现违规行为。"})]),
    ("demo-05", "LQ-B01", "report", 40, "信贷员收受客户购物卡。", "信贷员", False, {},
     [("accept", {}), ("forward_discipline", {})]),
    ("demo-06", "LQ-B01", "suggestion", 20, "建议营业厅增设老年人服务窗口。", "", False, {},
     [("accept", {}), ("refer_institution", {})]),
    ("demo-07", "LQ-B02", "complaint", 25, "办理业务时被收取未公示的手续费。", "", True, {}, []),
    ("demo-08", "LQ-S01", "report", 5, "营业部员工私下推荐非本机构理财产品。", "", False, {}, []),
    ("demo-09", "LQ-B01", "rating", 3, "服务热情，办事高效。", "", False,
     {"attitude": 5, "efficiency": 5, "integrity": 5}, []),
    ("demo-10", "LQ-I01", "rating", 10, "", "", False, {"attitude": 3, "efficiency": 2, "integrity": 4}, []),
]


def _finance_user():
    User = get_user_model()
    user = User.objects.filter(username="finance").first()
    if user is None:
        user, _ = User.objects.get_or_create(username="finance", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name=Role.FINANCE_CENTER))
    return user


@transaction.atomic
def seed_complaints() -> str:
    """Create the demo cases and one year of questionnaire answers; return a one-line summary."""
    institutions = {i.code: i for i in Institution.objects.filter(code__in={c[1] for c in DEMO_CASES})}
    if not institutions:
        return "一码举报：无演示机构，未生成演示案件"
    actor = _finance_user()
    created = 0
    today = timezone.localdate()
    for token, code, kind, days_ago, text, staff, named, ratings, actions in DEMO_CASES:
        institution = institutions.get(code)
        if institution is None or Complaint.objects.filter(
                submission_token_hash=hash_secret(token, "submission")).exists():
            continue
        receipt = services.submit(services.Submission(
            institution=institution, kind=kind, description=text, staff_name=staff, anonymous=not named,
            contact_name="王演示" if named else "", contact_phone="13800000000" if named else "",
            ratings=ratings, channel=Complaint.Channel.STAFF, submission_token=token))
        services.backdate(receipt.complaint, today - timedelta(days=days_ago))
        for action, data in actions:
            services.perform_action(receipt.complaint.pk, action, actor, services.ActionInput(**data))
        created += 1
    responses = _seed_survey(today.year, institutions)
    total = Complaint.objects.filter(submission_token_hash__in=[hash_secret(c[0], "submission")
                                                                for c in DEMO_CASES]).count()
    return f"一码举报：演示案件 {total} 件（本次新增 {created} 件），满意度问卷答复 {responses} 份"


def _seed_survey(year: int, institutions: dict[str, Institution]) -> int:
    questionnaire = services.ensure_questionnaire(year)
    if SurveyResponse.objects.filter(questionnaire=questionnaire, institution__code__startswith="LQ-").exists():
        return SurveyResponse.objects.filter(questionnaire=questionnaire).count()
    questions = list(questionnaire.questions.all())
    rows = []
    for index, institution in enumerate(institutions.values()):
        for month in range(1, 12):
            score = 5 - (index + month) % 3
            answers = {str(q.pk): (str(score) if q.kind == "rating" else "yes" if q.kind == "yes_no" else "")
                       for q in questions}
            submitted = timezone.make_aware(datetime(year, month, 15, 11))
            rows.append(SurveyResponse(questionnaire=questionnaire, institution=institution,
                                       answers={k: v for k, v in answers.items() if v},
                                       mean_rating=score, satisfied=score >= 4, submitted_at=submitted))
    SurveyResponse.objects.bulk_create(rows)
    # bulk_create bypasses submit_survey: count these answers into the monthly tallies.
    services.rebuild_satisfaction_tallies({row.institution_id for row in rows})
    return len(rows)
