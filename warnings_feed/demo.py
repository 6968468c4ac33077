"""Demo warnings for `seed_demo`: idempotent (keyed by title), deterministic read and acknowledgement.

The demo employee (`employee`, the first employee of LQ-B01) is left with every warning unread,
so that logging in shows the feed as an employee first sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone

from institutions.models import District, Employee, Institution

from . import rules, selectors, services
from .models import CaseType, Delivery, Scope, Severity, Warning

DEMO_DISTRICT = "331004"
DEMO_INSTITUTION = "LQ-B01"


@dataclass(frozen=True)
class DemoWarning:
    title: str
    body: str
    case_type: str
    severity: str
    scope: str
    days_ago: int
    names: tuple[str, ...] = ()
    category: str = ""
    institution_code: str = ""
    is_public: bool = False
    by_head: bool = False
    read_tenths: int = 0  # share of other employees who read it, in tenths
    acknowledged_tenths: int = 0


DEMO_WARNINGS = (
    DemoWarning(
        "【演示】某银行客户经理黄小明醉酒驾驶被依法查处",
        "辖内某银行客户经理黄小明酒后驾驶机动车，被交警查获，经检测血液酒精含量达到醉驾标准，"
        "已被依法追究刑事责任，所在单位给予开除处分。\n\n全区金融从业人员要引以为戒，严守“酒驾醉驾”红线，"
        "做到喝酒不开车、开车不喝酒。",
        CaseType.DRUNK_DRIVING, Severity.HIGH, Scope.DISTRICT, 20, ("黄小明",), is_public=True,
        read_tenths=9, acknowledged_tenths=8,
    ),
    DemoWarning(
        "【演示】保险代理人欧阳娜娜收受客户礼金被通报",
        "某保险公司代理人欧阳娜娜在办理理赔过程中收受客户礼金两千元，经查属实，公司已责令其退还并给予记过处分。"
        "\n\n各机构要教育员工拒收礼品礼金，发现问题及时报告。",
        CaseType.GIFTS, Severity.MEDIUM, Scope.DISTRICT, 12, ("欧阳娜娜",), read_tenths=8, acknowledged_tenths=6,
    ),
    DemoWarning(
        "【演示】信贷员李强违规发放贷款典型案例",
        "某农商银行信贷员李强在贷前调查中未实地核实借款人经营情况，违规发放贷款三笔，形成不良。"
        "李强被给予降级处分，支行长王建国负有管理责任，被诫勉谈话。\n\n各银行要严格落实贷款“三查”制度。",
        CaseType.IMPROPER_LENDING, Severity.HIGH, Scope.CATEGORY, 8, ("李强", "王建国"), category="bank",
        read_tenths=7, acknowledged_tenths=5,
    ),
    DemoWarning(
        "【演示】关于规范营业时间外业务办理的提醒",
        "近期发现个别员工在营业时间外私自为客户办理业务。请全体员工严格执行营业纪律，"
        "任何业务均须在营业时间内、按流程办理。",
        CaseType.MISCONDUCT, Severity.LOW, Scope.INSTITUTION, 3, institution_code=DEMO_INSTITUTION, by_head=True,
        read_tenths=6, acknowledged_tenths=3,
    ),
    DemoWarning(
        "【演示】“吃拿卡要”问题专项整治情况通报",
        "专项整治中查实某小额贷款公司员工张伟向借款人索要“好处费”，公司已与其解除劳动合同并移交有关部门处理。"
        "\n\n欢迎群众通过“清廉码”监督举报。",
        CaseType.ILLEGAL_FEES, Severity.MEDIUM, Scope.DISTRICT, 1, ("张伟",), is_public=True,
        read_tenths=3, acknowledged_tenths=1,
    ),
    DemoWarning(
        "【演示】节前廉洁提醒（定时发布）",
        "节日将至，请全体金融从业人员严守中央八项规定精神，不收受管理服务对象礼品礼金，不参与违规吃请。",
        CaseType.OTHER, Severity.LOW, Scope.DISTRICT, -3,
    ),
)


def _user(username: str):
    return get_user_model().objects.filter(username=username).first()


def _create(demo: DemoWarning, district: District, now) -> Warning:
    institution = Institution.objects.get(code=demo.institution_code) if demo.institution_code else None
    publisher = _user("head" if demo.by_head else "finance")
    warning, _created = Warning.objects.get_or_create(title=demo.title, defaults={
        "body": demo.body, "case_type": demo.case_type, "severity": demo.severity, "scope": demo.scope,
        "district": district, "category": demo.category, "institution": institution, "names": list(demo.names),
        "is_public": demo.is_public, "publisher": publisher,
        "publish_at": now - timedelta(days=demo.days_ago),
        "issuer": rules.issuer_name(scope=demo.scope, institution_name=institution.name if institution else "",
                                    district_name=district.name, published_by_head=demo.by_head),
    })
    if warning.publisher_id is None and publisher is not None:
        Warning.objects.filter(pk=warning.pk).update(publisher=publisher)
    return warning


def _simulate_reading(warning: Warning, demo: DemoWarning, demo_employee_id: int | None) -> None:
    """Deterministically mark some employees' deliveries read / acknowledged (never the demo employee)."""
    others = (Delivery.objects.filter(warning=warning).exclude(employee_id=demo_employee_id or 0)
              .annotate(bucket=Mod("employee_id", 10)))
    others.filter(bucket__lt=demo.read_tenths, read_at__isnull=True).update(
        read_at=F("delivered_at") + timedelta(hours=5))
    others.filter(bucket__lt=demo.acknowledged_tenths, acknowledged_at__isnull=True).update(
        acknowledged_at=F("delivered_at") + timedelta(hours=6, minutes=30))


@transaction.atomic
def seed_warnings() -> str:
    """Create the demo warnings (once), deliver the due ones, simulate reading; one-line summary."""
    district = District.objects.get(code=DEMO_DISTRICT)
    now = timezone.now()
    demo_employee_id = (Employee.objects.filter(institution__code=DEMO_INSTITUTION).order_by("employee_no")
                        .values_list("pk", flat=True).first())
    warnings = []
    for demo in DEMO_WARNINGS:
        warning = _create(demo, district, now)
        if rules.is_due(warning.publish_at, now):
            # Delivered when published, so that reading and acknowledgement times look real.
            services.fan_out(warning.pk, now=warning.publish_at)
            _simulate_reading(warning, demo, demo_employee_id)
        warnings.append(warning)
    services.rebuild_tallies([w.pk for w in warnings])  # _simulate_reading wrote past the services
    totals = selectors.rates_total(warning_ids=[w.pk for w in warnings])
    public = sum(1 for w in warnings if w.is_public)
    scheduled = sum(1 for w in warnings if not rules.is_due(w.publish_at, now))
    return (f"警示信息 {len(warnings)} 条（公开 {public} 条、定时 {scheduled} 条），送达 {totals.delivered} 人次，"
            f"知悉率 {totals.acknowledged_rate or 0}%")
