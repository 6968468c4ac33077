"""Attaching the year's records to the self sheet as evidence (scoring's Evidence through its service)."""

import pytest

from activities import selectors, services
from activities.models import EvidenceLink
from scoring.models import Evidence, SheetEntry
from tests.scoring.factories import assessment_for, fill_sheet

from .conftest import client_for, make_activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment(w):
    return assessment_for(w.a, w.scheme)


def test_filer_attaches_an_activity_with_one_click(w, kinds, assessment):
    activity = make_activity(w, kinds, clause="1.1")
    off_clause = make_activity(w, kinds, title="其他条款的活动", clause="2.1")
    client = client_for(w.filer)
    url = f"/activities/evidence/{assessment.pk}/B1/"
    page = client.get(url).content.decode()
    assert "清风墙揭牌" in page and "其他条款的活动" not in page  # B1 is on clause 1.1
    r = client.post(url, {"source": "activity", "object_id": activity.pk})
    assert r.status_code == 302
    evidence = Evidence.objects.get()
    assert evidence.entry.sheet.source == "self" and evidence.entry.indicator.code == "B1"
    assert evidence.original_name.endswith(".xlsx") and evidence.content_type.endswith("sheet")
    assert EvidenceLink.objects.get().evidence == evidence
    assert "已引用" in client.get(url).content.decode()
    # The self sheet shows it, with the picker's link.
    sheet = client.get(f"/scoring/assessments/{assessment.pk}/self/").content.decode()
    assert evidence.original_name in sheet and url in sheet
    # Twice: refused (409 from the service), nothing more stored.
    with pytest.raises(services.StateConflict):
        services.attach_evidence(w.filer, assessment, "B1", "activity", activity.pk)
    # Not on the indicator's clause: 400.
    with pytest.raises(services.DomainError):
        services.attach_evidence(w.filer, assessment, "B1", "activity", off_clause.pk)
    assert Evidence.objects.count() == 1


def test_refusals_leave_the_sheet_unchanged(w, kinds, assessment):
    activity = make_activity(w, kinds)
    b_activity = make_activity(w, kinds, inst=w.b, user=w.filer_b, title="乙")
    b_assessment = assessment_for(w.b, w.scheme)
    # Another institution's assessment: 404; another institution's record: 404.
    assert client_for(w.filer_b).get(f"/activities/evidence/{assessment.pk}/B1/").status_code == 404
    assert client_for(w.filer_b).post(f"/activities/evidence/{assessment.pk}/B1/",
                                      {"source": "activity", "object_id": activity.pk}).status_code == 404
    with pytest.raises(services.NotFound):
        services.attach_evidence(w.filer, assessment, "B1", "activity", b_activity.pk)
    with pytest.raises(services.NotFound):
        services.attach_evidence(w.filer, b_assessment, "B1", "activity", activity.pk)
    # A submitted self sheet takes no more evidence (409).
    fill_sheet(assessment, "self", {"B1": 40}, submit=True)
    r = client_for(w.filer).post(f"/activities/evidence/{assessment.pk}/B1/",
                                 {"source": "activity", "object_id": activity.pk}, follow=True)
    assert "已提交" in r.content.decode()
    assert not Evidence.objects.exists() and not EvidenceLink.objects.exists()
    assert not SheetEntry.objects.filter(sheet__assessment=b_assessment).exists()


def test_options_cover_trainings_showcases_and_accepted_returns(w, kinds, assessment):
    import datetime as dt

    training = services.record_training(w.filer, w.a, services.TrainingInput(
        title="培训", held_on=dt.date(2026, 5, 1), hours=2, clause_ids=[w.clauses["1.1"].pk]))
    action = services.save_action(w.filer, w.a, services.ActionInput(
        year=2026, title="样板动作", goals="目标", clause_ids=[w.clauses["1.1"].pk]))
    services.mark_showcase(w.fc, action, True)
    notice = services.publish_notice(w.fc, services.NoticeInput(
        title="报送通知", body="正文", return_kind="form", return_within=5, clause_id=w.clauses["1.1"].pk))
    receipt = notice.recipients.get(institution=w.a)
    services.submit_return(w.filer, receipt, "报送")
    labels = {o.source for o in selectors.evidence_options(w.a.pk, 2026, w.clauses["1.1"].pk)}
    assert labels == {"training", "showcase"}  # the return is not accepted yet
    services.decide_return(w.fc, receipt, True)
    options = selectors.evidence_options(w.a.pk, 2026, w.clauses["1.1"].pk)
    assert {o.source for o in options} == {"training", "showcase", "return"}
    for source, pk in (("training", training.pk), ("showcase", action.pk), ("return", receipt.pk)):
        services.attach_evidence(w.filer, assessment, "B1", source, pk)
    assert Evidence.objects.count() == 3
    # A showcase attached as evidence cannot be withdrawn.
    with pytest.raises(services.StateConflict):
        services.mark_showcase(w.fc, action, False)
