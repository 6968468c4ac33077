# The sending, the retries and the failures moved to core's mail outbox (core.OutgoingMail): a
# notification now records when it was handed over (sent_at renamed notified_at, its rows kept);
# its attempts and last error are the outbox mail's.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("complaints", "0005_satisfaction_tally"),
        ("core", "0001_outgoing_mail"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="notification", name="notification_pending"),
        migrations.RenameField(model_name="notification", old_name="sent_at", new_name="notified_at"),
        migrations.AlterField(
            model_name="notification",
            name="notified_at",
            field=models.DateTimeField(blank=True, help_text="交由外发邮件队列发送的时间", null=True,
                                       verbose_name="通知时间"),
        ),
        migrations.RemoveField(model_name="notification", name="attempts"),
        migrations.RemoveField(model_name="notification", name="last_error"),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["notified_at", "created_at"], name="notification_pending"),
        ),
    ]
