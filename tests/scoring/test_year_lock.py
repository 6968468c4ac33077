"""A write to a district's year (a sheet entry, a submission, an objection) and the locking of that
year for notice or publishing never cross: the writer holds the district-year row in SHARE mode until
it commits, the notice and the publishing take it FOR UPDATE. Writers do not wait for one another.
(Review finding: the status used to be read before any lock, so a sheet could change after the
notice began, and an objection could be filed on a year being published.)"""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.conf import settings

from scoring import services
from scoring.models import Objection, YearStatus
from tests.concurrency import crossing
from tests.factories import InstitutionFactory, UserFactory, institution_user

from .factories import assessment_for, luqiao
from .test_districts import aggregate, scored_institution

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("sqlite" in settings.DATABASES["default"]["ENGINE"],
                       reason="row locks: PostgreSQL (SQLite serialises writers)"),
]


@pytest.fixture
def year_with_results(scheme):
    lq = luqiao()
    scored_institution("L1", lq, scheme)
    aggregate(scheme.year, lq)
    return scheme


def test_the_notice_waits_for_a_sheet_being_saved_and_then_refuses_the_next(year_with_results):
    scheme = year_with_results
    bank = InstitutionFactory(code="L9", district=luqiao())
    assessment = assessment_for(bank, scheme)
    filer = institution_user(bank, "institution_filer", username="filer_l9")
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    dy = services.district_year(luqiao(), scheme.year)

    def save(points="30"):
        return services.save_entry(filer, assessment, "self", services.EntryInput("B1", points))

    waited, outcome = crossing(save, lambda: services.open_notice(dy, finance))
    assert waited, "locking for notice did not wait for the sheet being saved"
    assert "error" not in outcome and outcome["value"].status == YearStatus.NOTICE
    with pytest.raises(services.StateConflict):  # the notice has begun: the sheet is locked
        save("20")


def test_an_objection_being_filed_holds_the_publishing_back(year_with_results):
    scheme = year_with_results
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    dy = services.open_notice(services.district_year(luqiao(), scheme.year), finance)
    assessment = Objection.assessment.field.related_model.objects.get(institution__code="L1")
    head = institution_user(assessment.institution, "institution_head", username="head_l1")

    waited, outcome = crossing(lambda: services.file_objection(head, assessment, "B1 项漏记"),
                               lambda: services.publish_year(dy, finance))
    assert waited, "publishing did not wait for the objection being filed"
    # Publishing then sees the pending objection and refuses; the year stays in its notice period.
    assert isinstance(outcome.get("error"), services.StateConflict), outcome
    assert services.district_year(luqiao(), scheme.year).status == YearStatus.NOTICE


def test_writers_of_one_district_do_not_wait_for_one_another(year_with_results):
    scheme = year_with_results
    banks = [InstitutionFactory(code=f"W{i}", district=luqiao()) for i in (1, 2)]
    filers = [institution_user(b, "institution_filer", username=f"filer_w{i}") for i, b in enumerate(banks)]
    assessments = [assessment_for(b, scheme) for b in banks]

    def save(i):
        return lambda: services.save_entry(filers[i], assessments[i], "self", services.EntryInput("B1", D("30")))

    waited, outcome = crossing(save(0), save(1))
    assert not waited and "error" not in outcome  # the second writer finished while the first held its lock


def test_a_sheet_being_returned_holds_the_notice_back(year_with_results):
    """(Review finding: the return read the year's status before its transaction, so a sheet could be
    put back to draft after the notice had begun.)"""
    scheme = year_with_results
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    dy = services.district_year(luqiao(), scheme.year)
    assessment = Objection.assessment.field.related_model.objects.get(institution__code="L1")

    waited, outcome = crossing(lambda: services.return_sheet(finance, assessment, "inspection", "B1 复核"),
                               lambda: services.open_notice(dy, finance))
    assert waited, "locking for notice did not wait for the sheet being returned"
    assert "error" not in outcome and outcome["value"].status == YearStatus.NOTICE
    with pytest.raises(services.StateConflict):  # the notice has begun: no more returns
        services.return_sheet(finance, assessment, "self", "复核")


def test_an_import_holds_the_notice_back(year_with_results):
    import tablib

    scheme = year_with_results
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    dy = services.district_year(luqiao(), scheme.year)
    InstitutionFactory(code="L8", district=luqiao())
    dataset = tablib.Dataset(headers=["year", "institution_code", "source", "indicator_code", "value", "note"])
    dataset.append([scheme.year, "L8", "self", "B1", "30", ""])

    waited, outcome = crossing(lambda: services.import_scores(dataset, actor=finance),
                               lambda: services.open_notice(dy, finance))
    assert waited, "locking for notice did not wait for the import"
    assert "error" not in outcome and outcome["value"].status == YearStatus.NOTICE


def test_an_objection_being_reopened_holds_the_publishing_back(year_with_results):
    scheme = year_with_results
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    dy = services.open_notice(services.district_year(luqiao(), scheme.year), finance)
    assessment = Objection.assessment.field.related_model.objects.get(institution__code="L1")
    head = institution_user(assessment.institution, "institution_head", username="head_l1")
    objection = services.file_objection(head, assessment, "B1 项漏记")
    objection = services.decide_objection(finance, objection, True, "成立")

    waited, outcome = crossing(lambda: services.reopen_for_objection(finance, objection, "inspection", "B1 漏记"),
                               lambda: services.publish_year(dy, finance))
    assert waited, "publishing did not wait for the sheet being reopened"
    # Publishing then sees the reopened sheet and refuses; the year stays in its notice period.
    assert isinstance(outcome.get("error"), services.StateConflict), outcome
    assert services.district_year(luqiao(), scheme.year).status == YearStatus.NOTICE


def test_two_sheets_of_one_institution_submitted_at_once_leave_it_in_review(scheme):
    """(Review finding: each submission decided the assessment's new state without the other's; the self
    sheet submitted while the inspection sheet's submission was committing left it SELF_SUBMITTED.)"""
    from scoring.models import Assessment, AssessmentState

    from .factories import WORKED_SHEETS, fill_sheet

    bank = InstitutionFactory(code="L7", district=luqiao())
    assessment = assessment_for(bank, scheme)
    for source in ("self", "inspection"):
        fill_sheet(assessment, source, WORKED_SHEETS[source], submit=False)
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    services.district_year(luqiao(), scheme.year)  # opened already (else creating it makes the second wait)

    def submit(source):
        return lambda: services.submit_sheet(finance, Assessment.objects.get(pk=assessment.pk), source)

    waited, outcome = crossing(submit("inspection"), submit("self"))
    assert waited, "the second submission did not wait for the first"
    assert "error" not in outcome, outcome
    assert Assessment.objects.get(pk=assessment.pk).state == AssessmentState.IN_REVIEW


def test_a_return_or_an_import_during_the_notice_being_opened_waits_and_is_refused(year_with_results):
    """The other order: the notice is being opened (its transaction not yet committed) when a return and
    an import come: both wait for it, then see the notice and refuse (before the fix both went through,
    having read the year's status before any lock)."""
    import tablib

    scheme = year_with_results
    finance = UserFactory(username="fc_lock", roles=["finance_center"])
    dy = services.district_year(luqiao(), scheme.year)
    assessment = Objection.assessment.field.related_model.objects.get(institution__code="L1")

    waited, outcome = crossing(lambda: services.open_notice(dy, finance),
                               lambda: services.return_sheet(finance, assessment, "inspection", "B1 复核"))
    assert waited, "the return did not wait for the notice being opened"
    assert isinstance(outcome.get("error"), services.StateConflict), outcome
    assert assessment.sheets.get(source="inspection").status == "submitted"

    services.reopen_year(services.district_year(luqiao(), scheme.year), finance, "补录")
    InstitutionFactory(code="L6", district=luqiao())
    dataset = tablib.Dataset(headers=["year", "institution_code", "source", "indicator_code", "value", "note"])
    dataset.append([scheme.year, "L6", "self", "B1", "30", ""])
    waited, outcome = crossing(lambda: services.open_notice(services.district_year(luqiao(), scheme.year), finance),
                               lambda: services.import_scores(dataset, actor=finance))
    assert waited, "the import did not wait for the notice being opened"
    assert "error" not in outcome and not outcome["value"].ok and "公示期" in str(outcome["value"].problems[0])
    from scoring.models import SheetEntry

    assert not SheetEntry.objects.filter(sheet__assessment__institution__code="L6").exists()
