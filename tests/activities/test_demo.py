"""seed_demo's part: a year of activities, trainings, a campaign with late returns, two showcases for
路桥区, idempotent; the archive of a demo institution-year has every clause's folder."""

import io
import zipfile

import pytest

from activities import selectors, services
from activities.demo import CAMPAIGN_TITLE, seed_activities
from activities.models import Activity, Campaign, NoticeRecipient, SelfChosenAction, TrainingSession
from institutions import demo as institutions_demo
from institutions.models import Institution
from scoring.demo import seed_scoring

pytestmark = pytest.mark.django_db


def test_seed_activities(django_capture_on_commit_callbacks, settings, tmp_path):
    settings.ACTIVITIES_FILES_ROOT = str(tmp_path / "files")
    institutions_demo.seed_registry(employees_per_institution=5)
    institutions_demo.seed_users()
    seed_scoring()
    line = seed_activities()
    assert "项活动" in line and "\n" not in line
    counts = (Activity.objects.count(), TrainingSession.objects.count(), NoticeRecipient.objects.count())
    assert seed_activities() == "" and counts == (Activity.objects.count(), TrainingSession.objects.count(),
                                                  NoticeRecipient.objects.count())
    assert Activity.objects.filter(year=2026).values("institution").distinct().count() >= 10
    assert SelfChosenAction.objects.filter(is_showcase=True).count() == 2
    campaign = Campaign.objects.get(title=CAMPAIGN_TITLE)
    stats = selectors.campaign_stats(campaign)
    assert stats.late > 0 and stats.accepted > 0 and stats.returned < stats.asked
    assert NoticeRecipient.objects.filter(return_status="returned").exists()
    inst = Institution.objects.get(code="LQ-B01")
    assert selectors.institution_completion([inst.pk], 2026)[inst.pk].completed > 0
    # The archive of the demo filer's institution-year opens with every clause's folder.
    from django.contrib.auth import get_user_model

    finance = get_user_model().objects.get(username="finance")
    with django_capture_on_commit_callbacks(execute=True):
        job = services.request_archive(finance, 2026, inst)
    job.refresh_from_db()
    assert job.status == "done", job.error
    names = zipfile.ZipFile(io.BytesIO(job.file.read())).namelist()
    clauses = services.clauses_for(inst.district_id, 2026)
    assert clauses.count() >= 20
    for clause in clauses:
        assert any(n.startswith(f"条款/{clause.number} ") and n.endswith("/") for n in names), clause.number
    assert len(names) == len(set(names))
