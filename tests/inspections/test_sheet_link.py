"""Findings of the year are shown beside the inspection sheet, on their clause's indicator; a bonus
item confirmed by a visit is shown as confirmed; the stored figures follow every change."""

from datetime import date

import pytest
from django.test import Client

from inspections import selectors, services
from scoring.models import Source
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import assessment_for, assign, build_scheme

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    scheme = build_scheme(2026)  # the template: B1 on 1.1, B2 on 1.2, B3 on 2.1, bonus X1 and X2
    institution = InstitutionFactory(code="S001", name="测评银行")
    inspector = UserFactory(username="insp-sheet", roles=["inspector"])
    assign(inspector, institution, 2026, Source.INSPECTION)
    assessment = assessment_for(institution, scheme)
    visit = services.record_visit(inspector, institution, services.VisitInput(visited_on=date(2026, 6, 1)))
    return scheme, institution, inspector, assessment, visit


def test_findings_beside_the_inspection_sheet(world):
    _scheme, institution, inspector, assessment, visit = world
    services.add_finding(visit, inspector, clause="1.2", description="廉洁谈话记录缺失", severity="major",
                         rectify_within=5)
    services.confirm_bonus(visit, inspector, indicator_code="X1", evidence="获评市级清廉金融示范点")
    client = Client()
    client.force_login(inspector)
    page = client.get(f"/scoring/assessments/{assessment.pk}/inspection/")
    assert page.status_code == 200
    html = page.content.decode()
    row_b2 = html[html.index('id="row-B2"'):html.index('id="row-B3"')]
    assert "廉洁谈话记录缺失" in row_b2 and "待整改" in row_b2
    row_b1 = html[html.index('id="row-B1"'):html.index('id="row-B2"')]
    assert "廉洁谈话记录缺失" not in row_b1
    row_x1 = html[html.index('id="row-X1"'):html.index('id="row-X2"')]
    assert "督查已确认" in row_x1 and "示范点" in row_x1
    assert selectors.findings_by_clause(institution.pk, 2026)["1.2"][0]["status"] == "open"
    assert selectors.findings_by_clause(institution.pk, 2025) == {}


def test_bonus_confirmation_refusals(world):
    from core.errors import DomainError

    _scheme, _institution, inspector, _assessment, visit = world
    for code in ("B1", "NOPE"):
        with pytest.raises(DomainError):
            services.confirm_bonus(visit, inspector, indicator_code=code, evidence="x")
    services.confirm_bonus(visit, inspector, indicator_code="X2", evidence="佐证")
    with pytest.raises(DomainError):
        services.confirm_bonus(visit, inspector, indicator_code="X2", evidence="再次")


def test_stored_figures_follow_changes(world):
    _scheme, institution, inspector, _assessment, visit = world
    filer = institution_user(institution, "institution_filer")
    fc = UserFactory(username="fc-sheet", roles=["finance_center"])
    one = services.add_finding(visit, inspector, clause="1.1", description="问题一", severity="minor",
                               rectify_within=5)
    two = services.add_finding(visit, inspector, clause="1.1", description="问题二", severity="minor",
                               rectify_within=5)
    services.add_finding(visit, inspector, clause="2.1", description="问题三", severity="major", rectify_within=5)
    figures = selectors.tally(2026, institution_id=institution.pk)
    # Visited 1 June 2026: all three are long overdue today (the calendar is the machine's).
    assert figures["total"] == 3 and figures["open"] == 3 and figures["overdue"] == 3
    services.report(one, filer, measures="已整改")
    services.accept(one, fc)
    services.report(two, filer, measures="整改中")
    by_clause = {r["clause"]: r for r in selectors.tally_by_clause(institution.district_id, 2026)}
    assert by_clause["1.1"]["closed"] == 1 and by_clause["1.1"]["reported"] == 1 and by_clause["1.1"]["open"] == 0
    assert by_clause["1.1"]["closed_on_time"] == 0  # reported after the due date
    assert by_clause["2.1"]["overdue"] == 1
    rows = selectors.tally_by_institution(institution.district_id, 2026)
    assert rows[0]["code"] == "S001" and rows[0]["total"] == 3 and rows[0]["on_time_rate"] == "0.0"
    assert services.recount_all() == 1


def test_a_bonus_indicator_shows_the_institutions_showcases(world, django_assert_max_num_queries):
    """A showcase (样板) the finance center marked feeds the bonus indicator: the inspection sheet
    shows it beside the bonus rows, not beside the basic ones (issue #14, item 3)."""
    from activities import services as activities
    from scoring.models import NormClause

    _scheme, institution, inspector, assessment, _visit = world
    filer = institution_user(institution, "institution_filer", username="filer-showcase")
    fc = UserFactory(username="fc-showcase", roles=["finance_center"])
    clause = NormClause.objects.get(norms__year=2026, norms__district__isnull=True, number="1.2")
    shown = activities.save_action(filer, institution, activities.ActionInput(
        year=2026, title="廉洁家访进万家", goals="覆盖全体员工", clause_ids=[clause.pk]))
    activities.mark_showcase(fc, shown, True, note="全区推广")
    activities.save_action(filer, institution, activities.ActionInput(year=2026, title="未评样板的动作", goals="试点"))
    client = Client()
    client.force_login(inspector)
    with django_assert_max_num_queries(60):
        html = client.get(f"/scoring/assessments/{assessment.pk}/inspection/").content.decode()
    row_x1 = html[html.index('id="row-X1"'):html.index('id="row-X2"')]
    assert "廉洁家访进万家" in row_x1 and "未评样板的动作" not in row_x1
    row_b2 = html[html.index('id="row-B2"'):html.index('id="row-B3"')]
    assert "廉洁家访进万家" not in row_b2  # a basic indicator: findings only
