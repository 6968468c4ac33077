"""PasswordChangeRequired now belongs to the accounts app (accounts 0001 took it over, same table):
it leaves this app's state only; the table stays."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("warnings_feed", "0003_deliverytally"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PasswordChangeRequired")],
            database_operations=[],
        ),
    ]
