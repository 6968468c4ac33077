"""The models of employees' clean points, taken over from `scoring` (issue #10).

State only: the tables were created by `scoring.0003_employee_points` and keep their names
(`Meta.db_table`), so existing rows, constraints and indexes stay as they are.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODULES = [("clean_building", "清廉建设"), ("publicity", "清廉宣传"), ("staff_management", "员工管理"),
           ("compliance", "合规建设"), ("discipline", "纪检监察"), ("key_tasks", "重点工作"), ("red_line", "红线"),
           ("blacklist", "黑名单")]
MODULE_VALUES = [value for value, _label in MODULES]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("institutions", "0001_initial"),
        ("scoring", "0007_staff_points_moved"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    state_operations = [
        migrations.CreateModel(
            name="ViolationType",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=20, verbose_name="编码")),
                ("name", models.CharField(max_length=200, verbose_name="违规行为")),
                ("module", models.CharField(choices=MODULES, max_length=20, verbose_name="模块")),
                ("points", models.DecimalField(decimal_places=1, max_digits=5, verbose_name="扣分")),
                ("is_red_line", models.BooleanField(default=False, verbose_name="红线行为")),
                ("is_active", models.BooleanField(default=True, verbose_name="有效")),
                ("institution", models.ForeignKey(blank=True, help_text="留空表示全区通用", null=True,
                                                  on_delete=django.db.models.deletion.CASCADE,
                                                  related_name="violation_types", to="institutions.institution",
                                                  verbose_name="适用机构")),
            ],
            options={
                "verbose_name": "违规积分细则",
                "verbose_name_plural": "违规积分细则",
                "db_table": "scoring_violationtype",
                "ordering": ["institution_id", "code"],
                "constraints": [
                    models.UniqueConstraint(fields=("institution", "code"),
                                            name="violation_code_unique_in_institution"),
                    models.UniqueConstraint(condition=models.Q(("institution__isnull", True)), fields=("code",),
                                            name="violation_code_unique_district_wide"),
                    models.CheckConstraint(condition=models.Q(("points__gt", 0)), name="violation_points_positive"),
                    models.CheckConstraint(condition=models.Q(("module__in", MODULE_VALUES)),
                                           name="violation_module_valid"),
                ],
            },
        ),
        migrations.CreateModel(
            name="PointRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField(verbose_name="日期")),
                ("kind", models.CharField(choices=[("deduction", "扣分"), ("commendation", "加分")], max_length=12,
                                          verbose_name="类型")),
                ("module", models.CharField(choices=MODULES, max_length=20, verbose_name="模块")),
                ("points", models.DecimalField(decimal_places=1, max_digits=5, verbose_name="分值")),
                ("is_red_line", models.BooleanField(default=False, verbose_name="红线")),
                ("source", models.CharField(choices=[("accounting_check", "会计检辅"), ("credit_check", "信贷检辅"),
                                                     ("audit_report", "审计报告"), ("violation_points", "违规积分"),
                                                     ("external", "外部数据"), ("manual", "手工录入")],
                                            default="manual", max_length=20, verbose_name="来源")),
                ("note", models.TextField(blank=True, verbose_name="说明")),
                ("evidence", models.FileField(blank=True, upload_to="employee-points/%Y/", verbose_name="佐证")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="录入时间")),
                ("employee", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                               related_name="point_records", to="institutions.employee",
                                               verbose_name="员工")),
                ("recorder", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                               related_name="+", to=settings.AUTH_USER_MODEL,
                                               verbose_name="录入人")),
                ("violation_type", models.ForeignKey(blank=True, null=True,
                                                     on_delete=django.db.models.deletion.PROTECT,
                                                     related_name="records", to="staff_points.violationtype",
                                                     verbose_name="违规行为")),
            ],
            options={
                "verbose_name": "员工积分记录",
                "verbose_name_plural": "员工积分记录",
                "db_table": "scoring_pointrecord",
                "ordering": ["-date", "-pk"],
                "indexes": [models.Index(fields=["employee", "date"], name="scoring_poi_employe_f379f1_idx")],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("points__gt", 0)), name="record_points_positive"),
                    models.CheckConstraint(condition=models.Q(("kind__in", ["deduction", "commendation"])),
                                           name="record_kind_valid"),
                    models.CheckConstraint(condition=models.Q(("module__in", MODULE_VALUES)),
                                           name="record_module_valid"),
                    models.CheckConstraint(
                        condition=models.Q(("source__in", ["accounting_check", "credit_check", "audit_report",
                                                           "violation_points", "external", "manual"])),
                        name="record_source_valid"),
                    models.CheckConstraint(condition=models.Q(("is_red_line", True), ("kind", "commendation"),
                                                              _negated=True),
                                           name="record_commendation_not_red_line"),
                ],
            },
        ),
        migrations.CreateModel(
            name="BlacklistEntry",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(choices=[("proposed", "待确认"), ("confirmed", "已确认"),
                                                     ("rejected", "不予列入")],
                                            default="proposed", max_length=10, verbose_name="状态")),
                ("reason", models.TextField(blank=True, verbose_name="确认或驳回理由")),
                ("starts_on", models.DateField(blank=True, null=True, verbose_name="起始日")),
                ("ends_on", models.DateField(blank=True, null=True, verbose_name="截止日")),
                ("decided_at", models.DateTimeField(blank=True, null=True, verbose_name="确认时间")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="提出时间")),
                ("decided_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL,
                                                 verbose_name="确认人")),
                ("employee", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT,
                                               related_name="blacklist_entries", to="institutions.employee",
                                               verbose_name="员工")),
                ("record", models.OneToOneField(on_delete=django.db.models.deletion.PROTECT,
                                                related_name="blacklist_entry", to="staff_points.pointrecord",
                                                verbose_name="红线记录")),
            ],
            options={
                "verbose_name": "黑名单",
                "verbose_name_plural": "黑名单",
                "db_table": "scoring_blacklistentry",
                "ordering": ["-created_at"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(("status__in", ["proposed", "confirmed", "rejected"])),
                                           name="blacklist_status_valid"),
                    models.CheckConstraint(
                        condition=models.Q(models.Q(("status", "confirmed"), _negated=True),
                                           models.Q(("ends_on__gte", models.F("starts_on")),
                                                    ("ends_on__isnull", False), ("starts_on__isnull", False)),
                                           _connector="OR"),
                        name="blacklist_confirmed_has_period"),
                ],
            },
        ),
        migrations.CreateModel(
            name="PortraitView",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(auto_now_add=True, verbose_name="时间")),
                ("employee", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                               to="institutions.employee", verbose_name="员工")),
                ("viewer", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                             to=settings.AUTH_USER_MODEL, verbose_name="查看人")),
            ],
            options={
                "verbose_name": "画像查看记录",
                "verbose_name_plural": "画像查看记录",
                "db_table": "scoring_portraitview",
                "ordering": ["-at"],
            },
        ),
        migrations.CreateModel(
            name="Exemplar",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                ("confirmed_at", models.DateTimeField(auto_now_add=True, verbose_name="确认时间")),
                ("confirmed_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                   related_name="+", to=settings.AUTH_USER_MODEL,
                                                   verbose_name="确认人")),
                ("employee", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                               related_name="exemplars", to="institutions.employee",
                                               verbose_name="员工")),
            ],
            options={
                "verbose_name": "清廉典型",
                "verbose_name_plural": "清廉典型",
                "db_table": "scoring_exemplar",
                "constraints": [models.UniqueConstraint(fields=("employee", "year"), name="exemplar_once_a_year")],
            },
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])]
