"""Employee point records from spreadsheets (admin with preview, and the import service), all-or-nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, widgets

from core.errors import DomainError
from institutions import access
from institutions.models import Employee
from institutions.resources import AllOrNothingResource

from . import services
from .models import PointRecord, RecordKind, RecordSource

RECORD_COLUMNS = ("institution_code", "employee_no", "date", "kind", "violation_code", "module", "points",
                  "source", "note")


class PointRecordResource(AllOrNothingResource):
    institution_code = fields.Field(column_name="institution_code", attribute="employee__institution__code",
                                    readonly=True)
    employee_no = fields.Field(column_name="employee_no", attribute="employee__employee_no", readonly=True)
    date = fields.Field(attribute="date", column_name="date", widget=widgets.DateWidget(format="%Y-%m-%d"))
    kind = fields.Field(attribute="kind", column_name="kind")
    violation_code = fields.Field(column_name="violation_code", attribute="violation_type__code", readonly=True)
    module = fields.Field(attribute="module", column_name="module", readonly=True)
    points = fields.Field(attribute="points", column_name="points", readonly=True)
    source = fields.Field(attribute="source", column_name="source")
    note = fields.Field(attribute="note", column_name="note")

    class Meta:
        model = PointRecord
        fields = RECORD_COLUMNS
        export_order = RECORD_COLUMNS
        import_id_fields = ()
        skip_unchanged = False

    def __init__(self, year: int | None = None, user=None, **kwargs):
        super().__init__(**kwargs)
        self.year = year
        self.user = user
        self._recorded: list[PointRecord] = []

    def get_instance(self, instance_loader, row):
        return None  # every row is a new record

    def before_import_row(self, row, **kwargs):
        super().before_import_row(row, **kwargs)
        problems = []
        code, number = str(row.get("institution_code", "")).strip(), str(row.get("employee_no", "")).strip()
        employees = Employee.objects.filter(institution__code=code, employee_no=number)
        user = self.user or kwargs.get("user")
        if user is not None:
            employees = access.scope_queryset(employees, user)
        employee = employees.select_related("institution").first()
        if employee is None:
            problems.append(_("未知员工：机构 {code} 工号 {number}").format(
                code=code or _("（空）"), number=number or _("（空）")))
        day = _parse_date(row.get("date"))
        if day is None:
            problems.append(_("日期 {date} 无效，应为 YYYY-MM-DD").format(date=repr(row.get("date"))))
        elif self.year and day.year != self.year:
            problems.append(_("日期 {date} 不在 {year} 年度内").format(date=f"{day:%Y-%m-%d}", year=self.year))
        source = str(row.get("source", "") or RecordSource.MANUAL).strip()
        if source not in RecordSource.values:
            problems.append(_("未知来源 {source}，应为 {choices}").format(
                source=source, choices="、".join(RecordSource.values)))
        row["source"] = source
        kind = str(row.get("kind", "") or RecordKind.DEDUCTION).strip()
        row["kind"] = kind
        resolved = None
        if employee is not None:
            try:
                points = str(row.get("points", "") or "").strip()
                resolved = services.validated_record(employee, services.RecordInput(
                    date=day or dt.date.today(), kind=kind, violation_code=str(row.get("violation_code", "")).strip(),
                    module=str(row.get("module", "")).strip(), points=Decimal(points) if points else None))
            except DomainError as exc:
                problems.append(str(exc))
            except InvalidOperation:
                problems.append(_("分值 {points} 不是数字").format(points=repr(row.get("points"))))
        if problems:
            raise ValidationError("；".join(problems))
        row["_resolved"] = (employee, resolved)

    def import_instance(self, instance, row, **kwargs):
        super().import_instance(instance, row, **kwargs)
        employee, resolved = row["_resolved"]
        instance.employee = employee
        for name, value in resolved.items():
            setattr(instance, name, value)
        user = self.user or kwargs.get("user")
        instance.recorder = user if getattr(user, "pk", None) else None

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._recorded = []

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        self._recorded.append(instance)

    def after_import(self, dataset, result, **kwargs):
        super().after_import(dataset, result, **kwargs)
        # The blacklist proposals and the exemplar withdrawals, as the form's recording does, of every row
        # stored (the employees held in id order; a dry run's transaction, or a file refused whole, is
        # rolled back with them).
        if not result.has_errors():
            services.after_recording(self._recorded)


def _parse_date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None
