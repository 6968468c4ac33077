"""The demo district: Luqiao (331004) with ~60 fictional institutions, employees and demo users.

Deterministic (a fixed random seed) and idempotent: running it again updates, never duplicates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .models import GRANT_ROLES, District, DistrictGrant, Employee, Institution, Membership, Role
from .services import grant_role
from .usc import make_usc_code

DEMO_PASSWORD = "demo12345"  # noqa: S105 (fixed demo logins, API.md)
LUQIAO = "331004"

BANKS = [
    ("路桥演示农村商业银行", "演示农商行", True), ("台州演示城市商业银行", "演示城商行", True),
    ("路桥演示民泰商业银行", "演示民泰", True), ("路桥演示泰隆商业银行", "演示泰隆", True),
    ("演示工商银行路桥支行", "演示工行", False), ("演示农业银行路桥支行", "演示农行", False),
    ("演示中国银行路桥支行", "演示中行", False), ("演示建设银行路桥支行", "演示建行", False),
    ("演示交通银行路桥支行", "演示交行", False), ("演示邮储银行路桥支行", "演示邮储", False),
    ("演示招商银行路桥支行", "演示招行", False), ("演示浙商银行路桥支行", "演示浙商", False),
    ("演示兴业银行路桥支行", "演示兴业", False), ("演示中信银行路桥支行", "演示中信", False),
    ("演示光大银行路桥支行", "演示光大", False), ("演示民生银行路桥支行", "演示民生", False),
    ("演示华夏银行路桥支行", "演示华夏", False), ("演示平安银行路桥支行", "演示平安", False),
    ("演示宁波银行路桥支行", "演示宁行", False), ("演示杭州银行路桥支行", "演示杭行", False),
    ("演示温州银行路桥支行", "演示温行", False), ("演示稠州银行路桥支行", "演示稠州", False),
    ("演示农发行路桥支行", "演示农发", False), ("演示上海银行路桥支行", "演示上行", False),
    ("演示广发银行路桥支行", "演示广发", False),
]
INSURERS = [
    "人寿", "财险", "平安人寿", "平安财险", "太平洋人寿", "太平洋财险", "太平人寿", "新华人寿", "泰康人寿",
    "人保寿险", "国寿财险", "大地财险", "阳光人寿", "阳光财险", "中华财险", "天安财险", "华安财险",
    "永安财险", "安邦人寿", "富德生命",
]
SECURITIES = ["财通", "浙商", "国信", "华泰", "中信", "银河", "海通", "东方"]
LENDERS = [
    ("路桥演示小额贷款公司", "演示小贷"), ("路桥演示融资担保公司", "演示担保"), ("路桥演示典当行", "演示典当"),
    ("台州演示民间融资服务中心", "演示民融"), ("路桥演示金桥小额贷款公司", "演示金桥小贷"),
    ("路桥演示汇通融资担保公司", "演示汇通担保"), ("路桥演示恒信典当行", "演示恒信典当"),
]
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢"
    "姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华文辉鹏飞玲婷雪琳晨宇浩然欣怡子涵梓萱一诺佳俊建国志海燕晓东丹"
DEPARTMENTS = ["营业部", "个人金融部", "公司业务部", "风险管理部", "综合办公室", "运营管理部", "合规部"]
POSITIONS = ["柜员", "客户经理", "理财经理", "大堂经理", "信贷员", "会计", "部门负责人", "综合员"]


@dataclass(frozen=True)
class DemoInstitution:
    code: str
    name: str
    short_name: str
    category: str
    is_local_corporate: bool


def demo_institutions() -> list[DemoInstitution]:
    out = [DemoInstitution(f"LQ-B{i:02d}", n, s, "bank", lc) for i, (n, s, lc) in enumerate(BANKS, 1)]
    out += [DemoInstitution(f"LQ-I{i:02d}", f"演示{n}保险路桥支公司", f"演示{n}", "insurance", False)
            for i, n in enumerate(INSURERS, 1)]
    out += [DemoInstitution(f"LQ-S{i:02d}", f"演示{n}证券路桥营业部", f"演示{n}证券", "securities", False)
            for i, n in enumerate(SECURITIES, 1)]
    out += [DemoInstitution(f"LQ-P{i:02d}", n, s, "private_lending", False) for i, (n, s) in enumerate(LENDERS, 1)]
    return out


def demo_usc_code(index: int) -> str:
    # 9 (工商) 1 (企业) + division code + a 9-character organisation code, completed by the check char.
    return make_usc_code(f"91{LUQIAO}MA{index:07d}"[:17])


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


@transaction.atomic
def seed_registry(employees_per_institution: int = 20) -> dict[str, int]:
    district = District.objects.get(code=LUQIAO)
    rng = random.Random(331004)
    count_employees = 0
    for index, demo in enumerate(demo_institutions(), 1):
        institution, _ = Institution.objects.update_or_create(
            code=demo.code,
            defaults={
                "name": demo.name, "short_name": demo.short_name, "category": demo.category,
                "usc_code": demo_usc_code(index), "district": district,
                "is_local_corporate": demo.is_local_corporate, "is_active": True,
                "address": f"台州市路桥区演示路{index}号", "contact_person": person_name(rng),
                "contact_phone": f"0576-8{index:07d}",
            },
        )
        existing = set(institution.employees.values_list("employee_no", flat=True))
        new = []
        for n in range(1, employees_per_institution + 1):
            number = f"E{n:03d}"
            name = person_name(rng)
            if number not in existing:
                new.append(Employee(
                    institution=institution, employee_no=number, name=name,
                    department=rng.choice(DEPARTMENTS), position=rng.choice(POSITIONS),
                    is_party_member=rng.random() < 0.35,
                ))
        Employee.objects.bulk_create(new)
        count_employees += employees_per_institution
    return {"institutions": len(demo_institutions()), "employees": count_employees}


JIAOJIANG = "331002"
TAIZHOU = "3310"

DEMO_USERS = [
    # username, role, institution code for membership, membership role, is_staff. District-wide
    # roles are granted 路桥区 (city: 台州市); `finance2` is the finance center of 椒江区.
    ("finance", Role.FINANCE_CENTER, None, None, True),
    ("finance2", Role.FINANCE_CENTER, None, None, True),
    ("inspector", Role.INSPECTOR, None, None, False),
    ("thirdparty", Role.THIRD_PARTY, None, None, False),
    ("filer", Role.INSTITUTION_FILER, "LQ-B01", Role.INSTITUTION_FILER, True),
    ("head", Role.INSTITUTION_HEAD, "LQ-B01", Role.INSTITUTION_HEAD, True),
    ("filer2", Role.INSTITUTION_FILER, "LQ-I01", Role.INSTITUTION_FILER, True),
    ("discipline", Role.DISCIPLINE, None, None, False),
    ("apiclient", Role.API_CLIENT, None, None, False),
    ("employee", Role.EMPLOYEE, "LQ-B01", Role.EMPLOYEE, False),
    ("city", Role.CITY, None, None, False),
]


@transaction.atomic
def seed_users() -> list[tuple[str, str]]:
    User = get_user_model()
    printed = []
    for username, group_name, institution_code, membership_role, is_staff in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=username)
        user.is_staff = is_staff
        user.is_active = True
        user.email = f"{username}@demo.invalid"
        user.set_password(DEMO_PASSWORD)
        user.save()
        if group_name in GRANT_ROLES:
            code = {"finance2": JIAOJIANG}.get(username, TAIZHOU if group_name == Role.CITY else LUQIAO)
            target = District.objects.get(code=code)
            # The demo's district users serve exactly one district (an upgraded database may have more).
            DistrictGrant.objects.filter(user=user).exclude(role=group_name, district=target).delete()
            grant_role(user, group_name, target)
        else:
            user.groups.add(Group.objects.get(name=group_name))
        if institution_code:
            institution = Institution.objects.get(code=institution_code)
            Membership.objects.get_or_create(user=user, institution=institution, role=membership_role)
        if username == "employee":
            employee = Employee.objects.filter(institution__code="LQ-B01").order_by("employee_no").first()
            Employee.objects.filter(user=user).exclude(pk=employee.pk).update(user=None)
            employee.user = user
            employee.save(update_fields=["user"])
        label = str(Role(group_name).label)
        if group_name in GRANT_ROLES:
            label += f"（{target.name}）"
        printed.append((username, label))
    return printed
