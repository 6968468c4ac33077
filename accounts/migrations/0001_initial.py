"""PasswordChangeRequired moves here from warnings_feed, table and rows untouched.

The model is created in this app's state only: its table (warnings_feed_passwordchangerequired) was
made by warnings_feed 0001 and keeps its name (Meta.db_table). warnings_feed 0004 then drops the
model from that app's state. The content type moves too, so the permissions already granted on it
(and the admin's history) stay attached.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="accounts", model="passwordchangerequired").exists():
        ContentType.objects.filter(app_label="warnings_feed", model="passwordchangerequired").update(
            app_label="accounts")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="warnings_feed", model="passwordchangerequired").exists():
        ContentType.objects.filter(app_label="accounts", model="passwordchangerequired").update(
            app_label="warnings_feed")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("warnings_feed", "0003_deliverytally"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PasswordChangeRequired",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="创建时间")),
                        ("created_by", models.ForeignKey(blank=True, null=True,
                                                         on_delete=django.db.models.deletion.SET_NULL,
                                                         related_name="+", to=settings.AUTH_USER_MODEL,
                                                         verbose_name="创建人")),
                        ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE,
                                                      related_name="password_change_required",
                                                      to=settings.AUTH_USER_MODEL, verbose_name="用户")),
                    ],
                    options={
                        "verbose_name": "待修改初始密码的账号",
                        "verbose_name_plural": "待修改初始密码的账号",
                        "db_table": "warnings_feed_passwordchangerequired",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_type, restore_content_type),
    ]
