"""`manage.py seed_demo`, the command behind `make run`: loads everything, twice without harm, quietly."""

import io

import pytest
from django.core.management import CommandError, call_command

from complaints.models import Complaint
from institutions.models import Institution
from scoring.models import Result
from warnings_feed.models import Delivery

pytestmark = pytest.mark.django_db


# Transactional: the notifications go out after each commit, as under `make run`.
@pytest.mark.django_db(transaction=True)
def test_seed_demo_loads_every_app_idempotently_without_printing_mails(settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)  # pytest runs with DEBUG off
    first = (Institution.objects.count(), Result.objects.count(), Complaint.objects.count(),
             Delivery.objects.count())
    assert first[0] >= 60 and all(first), first
    text = out.getvalue()
    assert "演示账号" in text and "演示通知邮件" in text
    # The console backend would have printed every notification to the terminal.
    assert "Subject:" not in capsys.readouterr().out
    call_command("seed_demo", force=True, stdout=io.StringIO())
    assert (Institution.objects.count(), Result.objects.count(), Complaint.objects.count(),
            Delivery.objects.count()) == first


def test_seed_demo_refuses_production(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=io.StringIO())
