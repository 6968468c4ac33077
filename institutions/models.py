"""The registry: districts, financial institutions, their employees and users' memberships."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .usc import USC_PATTERN, usc_problem


def validate_usc_code(value: str) -> None:
    problem = usc_problem(value)
    if problem:
        raise ValidationError(problem, code="usc_code")


def new_public_code() -> str:
    # 128 bits, URL-safe: printed in QR codes, so it must be unguessable and never reused.
    return secrets.token_urlsafe(16)


class District(models.Model):
    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("县（市、区）")

    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices, default=Level.DISTRICT)
    parent = models.ForeignKey(
        "self", verbose_name=_("上级"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    # API.md "Warnings": the public blacklist API lists only the entries of districts that chose to
    # publish theirs (names masked). Off by default; the district's finance center switches it.
    publish_blacklist = models.BooleanField(_("公开黑名单"), default=False,
                                            help_text=_("开启后，本区确认的黑名单（姓名脱敏）通过公开接口向社会公布"))

    class Meta:
        verbose_name = _("行政区")
        verbose_name_plural = _("行政区")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class InstitutionCategory(models.TextChoices):
    BANK = "bank", _("银行")
    INSURANCE = "insurance", _("保险")
    SECURITIES = "securities", _("证券")
    PRIVATE_LENDING = "private_lending", _("民间融资")
    OTHER = "other", _("其他")


class Institution(models.Model):
    Category = InstitutionCategory

    code = models.CharField(_("机构编码"), max_length=32, unique=True)
    name = models.CharField(_("机构名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=50, blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    usc_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_usc_code]
    )
    district = models.ForeignKey(District, verbose_name=_("所属区县"), on_delete=models.PROTECT,
                                 related_name="institutions")
    is_local_corporate = models.BooleanField(_("地方法人机构"), default=False)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    contact_person = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    public_code = models.CharField(_("公开码"), max_length=32, unique=True, default=new_public_code,
                                   editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(verbose_name=_("机构变更记录"))

    class Meta:
        verbose_name = _("金融机构")
        verbose_name_plural = _("金融机构")
        ordering = ["code"]
        permissions = [("import_institution", _("可从文件导入机构"))]
        constraints = [
            models.CheckConstraint(condition=Q(usc_code__regex=USC_PATTERN), name="institution_usc_code_format"),
            models.CheckConstraint(condition=~Q(name=""), name="institution_name_not_blank"),
            models.CheckConstraint(condition=~Q(code=""), name="institution_code_not_blank"),
            models.CheckConstraint(
                condition=Q(category__in=InstitutionCategory.values), name="institution_category_valid"
            ),
        ]
        indexes = [models.Index(fields=["category", "code"]), models.Index(fields=["district", "code"])]

    def __str__(self) -> str:
        return self.name


class Employee(models.Model):
    institution = models.ForeignKey(Institution, verbose_name=_("所属机构"), on_delete=models.PROTECT,
                                    related_name="employees")
    name = models.CharField(_("姓名"), max_length=50)
    employee_no = models.CharField(_("工号"), max_length=32)
    department = models.CharField(_("部门"), max_length=100, blank=True)
    position = models.CharField(_("岗位"), max_length=100, blank=True)
    is_party_member = models.BooleanField(_("党员"), default=False)
    is_active = models.BooleanField(_("在职"), default=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("登录账号"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="employee")
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    history = HistoricalRecords(verbose_name=_("员工变更记录"))

    class Meta:
        verbose_name = _("员工")
        verbose_name_plural = _("员工")
        permissions = [("import_employee", _("可从文件导入员工"))]
        ordering = ["institution__code", "employee_no"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "employee_no"], name="employee_no_unique_in_institution"),
            models.CheckConstraint(condition=~Q(name=""), name="employee_name_not_blank"),
            models.CheckConstraint(condition=~Q(employee_no=""), name="employee_no_not_blank"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.employee_no}）"

    def audit_repr(self) -> str:
        """The audit log's name for the row (core.admin_guards.audit_repr): the name masked."""
        from core.masking import mask_name

        return f"{mask_name(self.name)}（{self.employee_no}）"


class Role(models.TextChoices):
    """The portal's roles; each is also a Django group of the same name."""

    FINANCE_CENTER = "finance_center", _("区金融工作中心")
    INSPECTOR = "inspector", _("检查组")
    THIRD_PARTY = "third_party", _("第三方测评")
    INSTITUTION_FILER = "institution_filer", _("机构填报员")
    INSTITUTION_HEAD = "institution_head", _("机构负责人")
    DISCIPLINE = "discipline", _("区纪委")
    API_CLIENT = "api_client", _("接口用户")
    EMPLOYEE = "employee", _("员工")
    CITY = "city", _("市级用户")


INSTITUTION_ROLES = (Role.INSTITUTION_FILER, Role.INSTITUTION_HEAD, Role.EMPLOYEE)
INSTITUTION_ROLE_CHOICES = [(r.value, r.label) for r in INSTITUTION_ROLES]
# Roles granted per district (DOMAIN.md, "Districts are the tenants"); `city` is granted a city.
DISTRICT_ROLES = (Role.FINANCE_CENTER, Role.INSPECTOR, Role.THIRD_PARTY, Role.DISCIPLINE, Role.API_CLIENT)
GRANT_ROLES = (*DISTRICT_ROLES, Role.CITY)
GRANT_ROLE_CHOICES = [(r.value, r.label) for r in GRANT_ROLES]


class Membership(models.Model):
    """A user's role within one institution: what scopes an institution user to their own data."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE,
                             related_name="memberships")
    institution = models.ForeignKey(Institution, verbose_name=_("机构"), on_delete=models.CASCADE,
                                    related_name="memberships")
    role = models.CharField(_("角色"), max_length=20, choices=INSTITUTION_ROLE_CHOICES)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    history = HistoricalRecords(verbose_name=_("成员变更记录"))

    class Meta:
        verbose_name = _("机构成员")
        verbose_name_plural = _("机构成员")
        constraints = [
            models.UniqueConstraint(fields=["user", "institution", "role"], name="membership_unique"),
            models.CheckConstraint(condition=Q(role__in=[r.value for r in INSTITUTION_ROLES]),
                                   name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.institution} · {self.get_role_display()}"


class DistrictGrant(models.Model):
    """A district-wide role granted for one district (or, for `city`, one city): what scopes a
    district user to the districts they serve. Managed by the installation administrator through
    `institutions.services.grant_role` / `revoke_role` (the admin calls them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE,
                             related_name="district_grants")
    role = models.CharField(_("角色"), max_length=20, choices=GRANT_ROLE_CHOICES)
    district = models.ForeignKey(District, verbose_name=_("区县或市"), on_delete=models.PROTECT,
                                 related_name="grants")
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("授权人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    history = HistoricalRecords(verbose_name=_("区县授权变更记录"))

    class Meta:
        verbose_name = _("区县授权")
        verbose_name_plural = _("区县授权")
        ordering = ["district__code", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "district"], name="district_grant_unique"),
            models.CheckConstraint(condition=Q(role__in=[r.value for r in GRANT_ROLES]),
                                   name="district_grant_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.district.name} · {self.get_role_display()}"
