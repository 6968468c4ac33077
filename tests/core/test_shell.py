"""The shell (issue #12, item 1): the navigation bar by role, breadcrumbs, the role home's to-do
counts linking to the filtered lists, and the Chinese error pages (also under DEBUG=False)."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from core import portal
from institutions.models import Institution
from scoring import services
from scoring.models import Assessment, Assignment, Scheme, ScoreSheet
from tests.factories import UserFactory, institution_user

DATA = Path(__file__).resolve().parent.parent / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture
def year_2030(db):
    call_command("import_institutions", str(DATA / "worked_example_institutions.csv"), verbosity=0)
    call_command("import_scheme", "--year", "2030", str(DATA / "worked_example_norms.csv"),
                 str(DATA / "worked_example_indicators.csv"), "--activate", verbosity=0)
    for district_year in services.district_years_using(Scheme.objects.get(year=2030)):
        services.open_year(district_year)
    Scheme.objects.filter(year=2030).update(self_due_date="2031-01-31", review_due_date="2031-02-28")
    return Institution.objects.get(code="W001")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def todo(response, key):
    return next((t for t in response.context["todos"] if t["key"] == key), None)


def test_finance_home_has_nav_and_counts_linking_to_filtered_lists(year_2030):
    finance = UserFactory(username="fc", roles=["finance_center"])
    response = client_of(finance).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="mainnav"' in html and "投诉举报处理" in html and "清廉积分测评" in html
    institutions = Assessment.objects.filter(year=2030, institution__district__code="331004").count()
    assert institutions > 0
    assert todo(response, "scoring.unsubmitted.self")["count"] == institutions
    assert todo(response, "scoring.unsubmitted.self")["url"] == "/scoring/years/2030/"
    assert todo(response, "scoring.objections")["url"] == "/scoring/years/2030/objections/?status=pending"
    assert todo(response, "complaints.overdue")["url"] == "/complaints/?overdue=1"
    assert todo(response, "complaints.due_soon")["url"] == "/complaints/?due=soon"
    assert todo(response, "warnings.low_acknowledgement") is not None
    # Not the filer's or the employee's lines.
    assert todo(response, "scoring.own_self") is None and todo(response, "warnings.unread") is None
    assert 'data-todo="scoring.unsubmitted.self"' in html


def test_counts_follow_the_district(year_2030):
    jiaojiang = UserFactory(username="fc2", roles=["finance_center"], roles__districts=["331002"])
    response = client_of(jiaojiang).get("/")
    luqiao = Assessment.objects.filter(year=2030, institution__district__code="331004").count()
    assert todo(response, "scoring.unsubmitted.self")["count"] != luqiao or luqiao == 0


def test_filer_sees_who_submits_and_by_when_and_the_count_drops_once_submitted(year_2030):
    filer = institution_user(year_2030, "institution_filer", username="filer")
    head = institution_user(year_2030, "institution_head", username="head")
    line = todo(client_of(filer).get("/"), "scoring.own_self")
    assert line["count"] == 1 and "由机构负责人提交" in line["hint"] and "2031" in line["hint"]
    assert line["url"] == "/scoring/"
    assessment = Assessment.objects.get(institution=year_2030, year=2030)
    ScoreSheet.objects.update_or_create(assessment=assessment, source="self",
                                        defaults={"status": "submitted", "submitted_at": timezone.now()})
    assert todo(client_of(head).get("/"), "scoring.own_self")["count"] == 0


def test_reviewer_sees_assigned_sheets_not_submitted(year_2030):
    inspector = UserFactory(username="insp", roles=["inspector"])
    Assignment.objects.create(user=inspector, institution=year_2030, year=2030, source="inspection")
    response = client_of(inspector).get("/")
    line = todo(response, "scoring.assigned")
    assert line["count"] == 1 and "2031" in line["hint"]
    assert todo(response, "scoring.unsubmitted.self") is None


def test_employee_sees_unread_warnings(db):
    from tests.factories import EmployeeFactory

    user = UserFactory(username="emp")
    EmployeeFactory(user=user)
    line = todo(client_of(user).get("/"), "warnings.unread")
    assert line is not None and line["count"] == 0 and line["url"] == "/warnings/"


def test_a_failing_counter_is_left_out_not_a_500(db, finance_user):
    portal.register_todo("test.broken", "坏的计数", lambda user: 1 / 0, "/", lambda user: True)
    try:
        response = client_of(finance_user).get("/")
        assert response.status_code == 200 and todo(response, "test.broken") is None
    finally:
        portal._todos.pop("test.broken")


def test_breadcrumbs_name_the_section(year_2030):
    finance = UserFactory(username="fc", roles=["finance_center"])
    html = client_of(finance).get("/complaints/stats/").content.decode()
    assert 'class="crumbs"' in html
    crumbs = html.split('class="crumbs"', 1)[1].split("</nav>", 1)[0]
    assert "首页" in crumbs and "/complaints/" in crumbs
    assert 'aria-current="page">投诉举报处理' in html


def test_section_for_picks_the_longest_prefix():
    links = [{"url": "/points/me/", "label": "a"}, {"url": "/scoring/", "label": "b"},
             {"url": "/scoring/years/", "label": "c"}]
    assert portal.section_for("/scoring/years/2030/", links)["label"] == "c"
    assert portal.section_for("/other/", links) is None


def _nav(client) -> str:
    html = client.get("/").content.decode()
    return html.split('class="mainnav"', 1)[1].split("</nav>", 1)[0] if 'class="mainnav"' in html else ""


def test_a_role_given_or_taken_shows_in_the_navigation_at_once(db, django_capture_on_commit_callbacks):
    """The navigation is kept in the session (NAV_SECONDS); a district grant, a membership or a change
    of groups made meanwhile is seen on the next page, not minutes later."""
    from institutions import services as institution_services
    from institutions.models import District, DistrictGrant, Membership
    from tests.factories import InstitutionFactory

    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    user = UserFactory(username="newcomer", is_staff=True)
    client = client_of(user)
    assert "投诉举报处理" not in _nav(client)  # kept in the session from here on
    with django_capture_on_commit_callbacks(execute=True):
        grant = institution_services.grant_role(user, "finance_center", District.objects.get(code="331004"),
                                                granted_by=superuser)
    assert "投诉举报处理" in _nav(client)
    with django_capture_on_commit_callbacks(execute=True):
        institution_services.revoke_role(DistrictGrant.objects.get(pk=grant.pk), revoked_by=superuser)
    assert "投诉举报处理" not in _nav(client)

    # A membership added in the admin: the institution's filer sees the scoring section.
    bank = InstitutionFactory(code="NAV01")
    admin = client_of(superuser)
    before = _nav(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/admin/institutions/membership/add/",
                              {"user": user.pk, "institution": bank.pk, "role": "institution_filer"})
    assert response.status_code == 302
    assert _nav(client) != before and "清廉积分测评" in _nav(client)

    # The institution deleted in the admin takes the membership with it.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/institutions/institution/{bank.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Membership.objects.filter(user=user).exists()
    assert _nav(client) == before


def test_an_employee_record_linked_or_groups_changed_in_the_admin_show_at_once(
        db, django_capture_on_commit_callbacks):
    """Linking the user to an employee record (警示信息, 我的清廉画像) and a change of their groups in the
    users' admin are seen on the next page too."""
    from django.contrib.auth.models import Group

    from tests.factories import EmployeeFactory

    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    user = UserFactory(username="newcomer2")
    client = client_of(user)
    assert "警示信息" not in _nav(client)
    employee = EmployeeFactory()
    admin = client_of(superuser)
    page = admin.get(f"/admin/institutions/employee/{employee.pk}/change/")
    assert page.status_code == 200
    data = {k: v for k, v in page.context["adminform"].form.initial.items() if v is not None}
    data.update(user=user.pk, institution=employee.institution_id, is_active="on")
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()
            if k in page.context["adminform"].form.fields}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/institutions/employee/{employee.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert "警示信息" in _nav(client)

    # The users' admin: the inspector group given on the user's page.
    before = _nav(client)
    inspector = Group.objects.get(name="inspector")
    user.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/auth/user/{user.pk}/change/", {
            "username": user.username, "is_active": "on", "groups": [inspector.pk],
            "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01", "initial-date_joined_1": "00:00:00"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert user.groups.filter(name="inspector").exists()
    assert _nav(client) != before

    # The group renamed in the groups' admin: its members no longer hold the role it named.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/auth/group/{inspector.pk}/change/", {"name": "inspector-old"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert _nav(client) == before


# --- error pages -----------------------------------------------------------------------------------

@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]


def test_404_in_chinese_with_a_way_back_under_debug_false(production, finance_user):
    response = client_of(finance_user).get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "未找到" in html and 'href="/"' in html and "回到首页" in html and "Not Found" not in html


def test_404_keeps_the_views_chinese_reason(production, year_2030):
    from tests.factories import InstitutionFactory

    stranger = institution_user(InstitutionFactory(), "institution_filer")
    assessment = Assessment.objects.get(institution=year_2030, year=2030)
    response = client_of(stranger).get(f"/scoring/assessments/{assessment.pk}/self/")
    assert response.status_code == 404
    assert "未找到，或您无权查看" in response.content.decode()


def test_403_names_the_reason(production, year_2030):
    filer = institution_user(year_2030, "institution_filer")
    response = client_of(filer).get("/scoring/years/2030/")
    html = response.content.decode()
    assert response.status_code in (403, 404)
    assert "Forbidden" not in html and "回到首页" in html


def test_csrf_failure_in_chinese(production, finance_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(finance_user)
    response = client.post("/warnings/manage/", {"title": "x"})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()


def test_500_page_in_chinese(production):
    from core.error_pages import server_error

    response = server_error(None)
    assert response.status_code == 500 and "系统出错" in response.content.decode()


def test_413_and_429_share_the_error_layout(production, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.shortcuts import render

    from core.ratelimits import too_many_requests

    request = rf.get("/")
    request.user = AnonymousUser()
    refused = render(request, "core/refused.html", {"message": "提交的内容过大。", "status": 413}, status=413)
    assert "提交的内容过大" in refused.content.decode() and 'data-status="413"' in refused.content.decode()
    limited = too_many_requests(request)
    assert limited.status_code == 429 and "请稍后再试" in limited.content.decode()


def test_english_error_page(production, finance_user):
    client = client_of(finance_user)
    client.cookies["django_language"] = "en"
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404


def test_tracked_items_counted_for_the_institution_and_the_finance_center(db):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import InstitutionFactory
    from tracking.models import TrackedItem

    bank = InstitutionFactory(code="TR01")
    head = institution_user(bank, "institution_head")
    finance = UserFactory(username="fc-track", roles=["finance_center"])
    today = timezone.localdate()
    TrackedItem.objects.create(institution=bank, district=bank.district, kind=TrackedItem.Kind.values[0],
                               title="整改一", start_on=today - timedelta(days=20), working_days=5,
                               due_on=today - timedelta(days=1))
    own = client_of(head).get("/")
    assert todo(own, "tracking.to_reply")["count"] == 1
    assert todo(own, "tracking.overdue")["count"] == 1
    assert todo(own, "tracking.to_reply")["url"] == "/tracking/?status=open"
    assert todo(client_of(finance).get("/"), "tracking.overdue")["count"] == 1
