"""django-import-export resources for the registry: one definition for admin, commands and tests."""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets

from core.exports import SafeExportMixin, refuse_formula

from . import access
from .models import District, Employee, Institution

INSTITUTION_COLUMNS = ("code", "name", "short_name", "category", "usc_code", "district_code", "is_local_corporate")
EMPLOYEE_COLUMNS = ("institution_code", "employee_no", "name", "department", "position", "is_party_member",
                    "is_active")


class StrictBooleanWidget(widgets.BooleanWidget):
    """1/0, true/false, 是/否; anything else is an error instead of silently meaning False."""

    TRUE_VALUES = [*widgets.BooleanWidget.TRUE_VALUES, "是", "yes", "Y", "y"]  # i18n-exempt: values files are read by
    FALSE_VALUES = [*widgets.BooleanWidget.FALSE_VALUES, "否", "no", "N", "n"]  # i18n-exempt: values files are read by

    def clean(self, value, row=None, **kwargs):
        if value in self.NULL_VALUES:
            return False
        if value in self.TRUE_VALUES:
            return True
        if value in self.FALSE_VALUES:
            return False
        raise ValueError(_("无法识别的是/否取值 %(value)s（应为 1 或 0）") % {"value": repr(value)})


class ChoiceWidget(widgets.Widget):
    """Accepts a choice's value or its label (Chinese, or in any language the portal speaks); names the
    allowed values when neither matches."""

    def __init__(self, choices, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices

    def clean(self, value, row=None, **kwargs):
        value = (value or "").strip() if isinstance(value, str) else value
        for key, label in self.choices:
            if value == key or value in _spellings(label):
                return key
        allowed = "、".join(f"{k}（{label}）" for k, label in self.choices)
        raise ValueError(_("未知取值 %(value)s，应为：%(allowed)s") % {"value": repr(value), "allowed": allowed})

    def render(self, value, obj=None, **kwargs):
        return value


def _spellings(label) -> set[str]:
    """A (lazy) label as the current language and every language of the portal spell it: a file filled
    in Chinese is read the same in an English session."""
    spellings = {str(label)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            spellings.add(str(label))
    return spellings


class CodeForeignKeyWidget(widgets.ForeignKeyWidget):
    """A foreign key by code whose error names the unknown code."""

    def __init__(self, model, field, label, **kwargs):
        super().__init__(model, field, **kwargs)
        self.label = label

    def clean(self, value, row=None, **kwargs):
        if value in (None, ""):
            raise ValueError(_("%(label)s不能为空") % {"label": self.label})
        try:
            return super().clean(value, row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(_("未知%(label)s %(value)s") % {"label": self.label, "value": value}) from None


class AllOrNothingResource(SafeExportMixin, resources.ModelResource):
    """Row savepoints (a database error on one row must not poison the others' validation on
    PostgreSQL), duplicate-key detection inside one file, names and codes that would run as a
    spreadsheet formula refused (`formula_columns`: column → label, `free_text_columns` may start
    with "-"), and every exported field neutralised (core.exports)."""

    duplicate_key_columns: tuple[str, ...] = ()
    formula_columns: dict[str, str] = {}
    free_text_columns: tuple[str, ...] = ()

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        if self.duplicate_key_columns and all(c in dataset.headers for c in self.duplicate_key_columns):
            keys = [tuple(str(row[c]) for c in self.duplicate_key_columns) for row in dataset.dict]
            self._duplicates = {k for k, n in Counter(keys).items() if n > 1}
        else:
            self._duplicates = set()

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        for column, label in self.formula_columns.items():
            refuse_formula(row.get(column), label, allow_minus=column in self.free_text_columns)
        if self._duplicates:
            key = tuple(str(row.get(c, "")) for c in self.duplicate_key_columns)
            if key in self._duplicates:
                raise ValidationError(_("%(columns)s %(key)s 在文件中重复出现")
                                      % {"columns": "/".join(self.duplicate_key_columns), "key": "/".join(key)})

    def import_row(self, row, instance_loader, **kwargs):
        with transaction.atomic():
            return super().import_row(row, instance_loader, **kwargs)


class InstitutionResource(AllOrNothingResource):
    duplicate_key_columns = ("code",)
    formula_columns = {"code": gettext_lazy("机构编码"), "name": gettext_lazy("机构名称"),
                       "short_name": gettext_lazy("机构简称"), "usc_code": gettext_lazy("统一社会信用代码"),
                       "contact_person": gettext_lazy("联系人")}

    category = fields.Field(attribute="category", column_name="category",
                            widget=ChoiceWidget(Institution.Category.choices))
    district_code = fields.Field(attribute="district", column_name="district_code",
                                 widget=CodeForeignKeyWidget(District, "code", gettext_lazy("行政区划代码")))
    is_local_corporate = fields.Field(attribute="is_local_corporate", column_name="is_local_corporate",
                                      widget=StrictBooleanWidget())
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=StrictBooleanWidget())

    class Meta:
        model = Institution
        import_id_fields = ("code",)
        fields = (*INSTITUTION_COLUMNS, "address", "contact_person", "contact_phone", "is_active")
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        # Columns a file leaves out keep their current value instead of being blanked.
        if field.column_name not in row:
            return
        super().import_field(field, instance, row, is_m2m, **kwargs)

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if "is_active" in row and row["is_active"] in ("", None):
            row["is_active"] = "1"
        user = self.user or kwargs.get("user")
        if user is not None and not access.is_superuser(user):
            # Through the admin: only institutions of the districts where the user is the finance center,
            # and new ones only into such a district. Same words as an unknown code for anything else.
            code, district = str(row.get("code") or "").strip(), str(row.get("district_code") or "").strip()
            mine = access.scope_queryset(Institution.objects.all(), user, "", roles=("finance_center",))
            exists = Institution.objects.filter(code=code).exists()
            if exists and not mine.filter(code=code).exists():
                raise ValidationError(_("无权修改机构 %(code)s") % {"code": code})
            if district and not access.visible_districts(user, roles=("finance_center",)).filter(
                    code=district).exists():
                raise ValidationError(_("无权在区县 %(district)s 登记机构") % {"district": district})


class EmployeeResource(AllOrNothingResource):
    duplicate_key_columns = ("institution_code", "employee_no")
    formula_columns = {"institution_code": gettext_lazy("机构编码"), "employee_no": gettext_lazy("工号"),
                       "name": gettext_lazy("姓名"), "department": gettext_lazy("部门"),
                       "position": gettext_lazy("岗位")}
    free_text_columns = ("department", "position")

    institution_code = fields.Field(attribute="institution", column_name="institution_code",
                                    widget=CodeForeignKeyWidget(Institution, "code", gettext_lazy("机构编码")))
    is_party_member = fields.Field(attribute="is_party_member", column_name="is_party_member",
                                   widget=StrictBooleanWidget())
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=StrictBooleanWidget())

    class Meta:
        model = Employee
        import_id_fields = ("institution_code", "employee_no")
        fields = EMPLOYEE_COLUMNS
        export_order = EMPLOYEE_COLUMNS
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        if "is_active" in row and row["is_active"] in ("", None):
            row["is_active"] = "1"
        user = self.user or kwargs.get("user")
        if user is not None:
            code = row.get("institution_code")
            if not access.scope_queryset(Institution.objects.filter(code=code), user, "").exists():
                # Same words as an unknown code: an institution user must not learn others exist.
                raise ValidationError(_("未知机构编码 %(code)s") % {"code": code})

    def get_instance(self, instance_loader, row):
        try:
            return Employee.objects.get(institution__code=row.get("institution_code"),
                                        employee_no=row.get("employee_no"))
        except Employee.DoesNotExist:
            return None
