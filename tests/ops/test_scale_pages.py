"""Pages the province crawl flagged (issue 16, docs/performance.md "Operations"): their work does not
grow with the rows behind them, and the API schema is built once, the same for everyone."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from core.api import schema as api_schema
from institutions.models import Institution
from tests.factories import InstitutionFactory, UserFactory, institution_user
from tests.scoring.factories import assessment_for, build_scheme, fill_sheet

YEAR = 2026


def _get(client, url, **extra):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    return response, len(ctx.captured_queries)


# --- /api/schema/ -----------------------------------------------------------------------------


@pytest.fixture
def fresh_schema():
    api_schema.clear()
    yield
    api_schema.clear()


@pytest.fixture
def builds(monkeypatch):
    """How many times drf-spectacular generated a schema (whatever view serves it)."""
    from drf_spectacular.generators import SchemaGenerator

    calls = []
    original = SchemaGenerator.get_schema

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SchemaGenerator, "get_schema", counting)
    return calls


@pytest.mark.django_db
def test_schema_is_the_same_for_every_caller(fresh_schema, builds, monkeypatch):
    """Checked with the cache bypassed: the generated document does not depend on who asks (so one
    cached copy may serve everybody)."""
    monkeypatch.setattr(api_schema, "_schemas", _Forgetful())
    monkeypatch.setattr(api_schema, "_rendered", _Forgetful())
    bank = InstitutionFactory()
    callers = [None, UserFactory(roles=["finance_center"]), UserFactory(roles=["city"]),
               institution_user(bank, "institution_filer"), institution_user(bank, "institution_head"),
               UserFactory(username="root", is_superuser=True, is_staff=True)]
    bodies = set()
    for user in callers:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        response = client.get("/api/schema/?format=json")
        assert response.status_code == 200
        bodies.add(response.content)
    assert len(bodies) == 1
    assert len(builds) == len(callers)  # really built each time here


class _Forgetful(dict):
    def __setitem__(self, key, value):
        pass


@pytest.mark.django_db
def test_schema_built_once_per_language_and_format(fresh_schema, builds, client):
    first = client.get("/api/schema/")
    assert first.status_code == 200 and first["Content-Type"].startswith("application/vnd.oai.openapi")
    assert b"/api/v1/institutions/" in first.content
    client.force_login(UserFactory(roles=["finance_center"]))
    again, queries = _get(client, "/api/schema/")
    assert again.content == first.content
    as_json = client.get("/api/schema/?format=json")
    assert as_json.json()["paths"]["/api/v1/institutions/"]
    assert len(builds) == 1  # the second request and the JSON form reuse it
    assert queries <= 6  # the session and the user, nothing for the schema
    english = client.get("/api/schema/?lang=en")
    assert english.status_code == 200
    assert len(builds) == 2  # another language: built once more
    client.get("/api/schema/?lang=en")
    assert len(builds) == 2


# --- /api/v1/returns/ --------------------------------------------------------------------------


def _notice(fc_client):
    response = fc_client.post("/activities/notices/", {
        "title": "关于开展自查的通知", "body": "请各机构自查并报送。", "audience": "district", "return_kind": "form",
        "return_within": 5, "return_instructions": "报送自查情况", "district": "331004"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_returns_list_queries_do_not_grow_with_rows(django_assert_max_num_queries):
    build_scheme(YEAR)
    fc = UserFactory(roles=["finance_center"])
    client = APIClient()
    client.force_login(fc)
    for _ in range(2):
        InstitutionFactory()
    _notice(client)
    response, few = _get(client, "/api/v1/returns/")
    assert response.status_code == 200 and response.json()["count"] == 2
    for _ in range(12):
        InstitutionFactory()
    _notice(client)
    with django_assert_max_num_queries(few):
        response = client.get("/api/v1/returns/")
    body = response.json()
    assert body["count"] == 16 and len(body["results"]) == 16
    row = body["results"][0]
    assert row["district"] == "331004" and row["institution"]["code"] and row["notice"]["title"]


# --- admin: a scheme's change page ----------------------------------------------------------------


def _indicators(n):
    clauses = ["1.1", "1.2", "2.1"]
    return [(f"B{i}", "basic", clauses[i % 3], D("1")) for i in range(n)]


@pytest.mark.django_db
def test_scheme_change_page_queries_do_not_grow_with_indicators(client, django_assert_max_num_queries):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    few = build_scheme(YEAR, _indicators(3), status="draft")
    many = build_scheme(YEAR + 1, _indicators(30), status="draft")
    response, small = _get(client, f"/admin/scoring/scheme/{few.pk}/change/")
    assert response.status_code == 200
    with django_assert_max_num_queries(small):
        response = client.get(f"/admin/scoring/scheme/{many.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "B29" in page and "测试条款2.1" in page  # every row, with its clause
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"/admin/scoring/scheme/{many.pk}/change/")
    frozen_checks = [q for q in ctx.captured_queries if "scoring_districtyear" in q["sql"]]
    assert len(frozen_checks) <= 1  # whether the scheme is frozen: asked once, not per permission check


def _form_fields(page: str) -> dict:
    """What a browser posts from the page's change form: every named input (checked boxes only),
    select (its selected option) and textarea."""
    from html.parser import HTMLParser

    class Fields(HTMLParser):
        def __init__(self):
            super().__init__()
            self.data, self.select, self.textarea = {}, None, None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit", "button", "file"):
                if a.get("type") != "checkbox" or "checked" in a:
                    self.data[name] = a.get("value") or ("on" if a.get("type") == "checkbox" else "")
            elif tag == "select" and name:
                self.select = name
                self.data.setdefault(name, "")
            elif tag == "option" and self.select and "selected" in a:
                self.data[self.select] = a.get("value", "")
            elif tag == "textarea" and name:
                self.textarea = name
                self.data[name] = ""

        def handle_endtag(self, tag):
            if tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data):
            if self.textarea:
                self.data[self.textarea] += data.lstrip("\n") if not self.data[self.textarea] else data

    parser = Fields()
    parser.feed(page)
    return parser.data


@pytest.mark.django_db
def test_a_scheme_saved_from_its_page_keeps_every_indicator(client):
    """The inline's inputs are written in Python (core.widgets.plain): the page posts back as before,
    and a changed title and maximum are saved, the other rows untouched."""
    from scoring.models import Indicator

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    scheme = build_scheme(YEAR, _indicators(4), status="draft")
    before = list(Indicator.objects.filter(scheme=scheme).order_by("pk").values("code", "kind", "clause_id",
                                                                                 "max_points", "position"))
    url = f"/admin/scoring/scheme/{scheme.pk}/change/"
    data = _form_fields(client.get(url).content.decode())
    assert data["indicators-TOTAL_FORMS"] == "4" and data["indicators-0-code"] == "B0"
    data["indicators-1-title"] = "改过的标题"
    data["indicators-1-max_points"] = "2.5"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    after = Indicator.objects.filter(scheme=scheme).order_by("pk")
    assert [i.title for i in after][1] == "改过的标题" and after[1].max_points == D("2.5")
    before[1]["max_points"] = D("2.5")
    assert list(after.values("code", "kind", "clause_id", "max_points", "position")) == before


# --- /dashboards/district/ ----------------------------------------------------------------------


@pytest.mark.django_db
def test_district_dashboard_queries_do_not_grow_with_institutions(client, django_assert_max_num_queries):
    from institutions.models import District
    from scoring import services as scoring_services

    luqiao = District.objects.get(code="331004")
    scheme = build_scheme(YEAR)
    finance = UserFactory(roles=["finance_center"], is_staff=True)

    def add(n):
        for _ in range(n):
            fill_sheet(assessment_for(InstitutionFactory(), scheme), "inspection",
                       {"B1": D("30"), "B2": D("30"), "B3": D("15")})
        scoring_services.aggregate_year(YEAR, luqiao)

    client.force_login(finance)
    url = f"/dashboards/district/?district=331004&year={YEAR}"
    add(3)
    cache.clear()
    response, small = _get(client, url)
    assert response.status_code == 200
    add(25)
    cache.clear()
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["ranking_count"] == 28


@pytest.mark.django_db
def test_district_dashboard_lists_a_bounded_number_of_institutions(client, monkeypatch):
    """The programme panels (rectifications, trainings, risk) list the institutions that most need
    attention, a bounded number, not every institution of the district."""
    from dashboards import views as dashboard_views

    monkeypatch.setattr(dashboard_views, "PROGRAMME_ROWS", 5)
    build_scheme(YEAR)
    for _ in range(12):
        InstitutionFactory()
    client.force_login(UserFactory(roles=["finance_center"], is_staff=True))
    response = client.get(f"/dashboards/district/?district=331004&year={YEAR}")
    assert response.status_code == 200
    html = response.content.decode()
    for table in ("training-institutions", "risk-institutions"):
        start = html.index(f'id="{table}"')
        body = html[html.index("<tbody>", start):html.index("</tbody>", start)]
        assert body.count("<tr data-code=") == 5, table
    assert html.count("共 12 家机构") == 2
    assert response.context["trainings"]["institutions_count"] == 12


# --- the warnings' publish form ------------------------------------------------------------------


@pytest.mark.django_db
def test_publish_form_lists_no_institutions_and_takes_a_code(client):
    fc = UserFactory(roles=["finance_center"])
    for _ in range(30):
        InstitutionFactory()
    target = Institution.objects.order_by("code").last()
    client.force_login(fc)
    page = client.get("/warnings/manage/").content.decode()
    assert target.name not in page.split("各机构阅读与知悉情况")[0]  # no option per institution
    assert page.count("<option") < 40
    response = client.post("/warnings/manage/", {
        "title": "单个机构警示", "body": "正文", "case_type": "other", "severity": "medium", "scope": "institution",
        "district": "331004", "institution": target.code, "publish_at": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    from warnings_feed.models import Warning

    assert Warning.objects.get().institution == target
    unknown = client.post("/warnings/manage/", {
        "title": "单个机构警示", "body": "正文", "case_type": "other", "severity": "medium", "scope": "institution",
        "district": "331004", "institution": "NO-SUCH", "publish_at": ""})
    assert unknown.status_code == 400 and Warning.objects.count() == 1


# --- warnings: the registry's names in a text ------------------------------------------------------


@pytest.mark.django_db
def test_registry_names_looked_up_among_the_texts_substrings():
    """Which employees' names a warning's text contains: looked up as the text's substrings (a
    hashed list), not a LIKE of the text against every employee's name (2.6 s over 100,000)."""
    from institutions.models import District
    from tests.factories import EmployeeFactory
    from warnings_feed import presentation
    from warnings_feed.models import Warning

    bank = InstitutionFactory()
    for name in ("任重远", "甲", "欧阳长长长长长名字", "不在文中", "远"):
        EmployeeFactory(institution=bank, name=name)
    EmployeeFactory(institution=InstitutionFactory(district=District.objects.get(code="331002")), name="任重远乙")
    warning = Warning.objects.create(title="通报", body="任重远与欧阳长长长长长名字经办，甲方知情，任重远乙无关",
                                     scope="district", district=bank.district, publish_at=timezone.now())
    with CaptureQueriesContext(connection) as ctx:
        presentation.attach_registry([warning])
    assert warning.registry_names == frozenset({"任重远", "甲", "欧阳长长长长长名字", "远"})
    sql = ctx.captured_queries[-1]["sql"]
    assert '"institutions_employee"."name" IN (' in sql


# --- admin: the assessments' changelist ------------------------------------------------------------


@pytest.mark.django_db
def test_assessment_changelist_counts_entries_of_the_page_only(client, django_assert_max_num_queries):
    """The entries filled per source are counted for the page's assessments (one grouped query
    restricted to their ids), not annotated over every assessment's entries."""
    from scoring.models import Indicator

    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    scheme = build_scheme(YEAR)
    codes = list(Indicator.objects.filter(scheme=scheme, kind="basic").values_list("code", flat=True))

    def add(n):
        for _ in range(n):
            assessment = assessment_for(InstitutionFactory(), scheme)
            fill_sheet(assessment, "self", {c: 1 for c in codes[:3]}, submit=False)
            fill_sheet(assessment, "inspection", {c: 1 for c in codes[:2]}, submit=False)

    add(3)
    response, few = _get(client, "/admin/scoring/assessment/")
    assert response.status_code == 200
    add(12)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/admin/scoring/assessment/")
    assert len(ctx.captured_queries) <= few
    assert response.content.decode().count("3 / 2 / 0") == 15
    entry_queries = [q["sql"] for q in ctx.captured_queries if "scoring_sheetentry" in q["sql"]]
    assert entry_queries and all('"assessment_id" IN (' in sql for sql in entry_queries)


# --- activities: the finance center's home --------------------------------------------------------


@pytest.mark.django_db
def test_activities_home_lists_the_district_a_page_at_a_time(client, django_assert_max_num_queries):
    from activities import views as activity_views

    build_scheme(YEAR)
    client.force_login(UserFactory(roles=["finance_center"]))
    for _ in range(3):
        InstitutionFactory()
    response, few = _get(client, f"/activities/?year={YEAR}")
    assert response.status_code == 200
    for _ in range(activity_views.PAGE_SIZE + 5):
        InstitutionFactory()
    with django_assert_max_num_queries(few + 2):  # + the paginator's count
        response = client.get(f"/activities/?year={YEAR}")
    html = response.content.decode()
    assert html.count("?institution=") == activity_views.PAGE_SIZE
    assert f"year={YEAR}&amp;page=2" in html
    rest = client.get(f"/activities/?year={YEAR}&page=2").content.decode()
    assert rest.count("?institution=") == 8


# --- warnings: the management page's rates ---------------------------------------------------------


@pytest.mark.django_db
def test_manage_page_rates_come_from_the_tallies(client):
    """The management page's rates (per warning, per institution) are the stored tallies' sums, the
    same figures as counting the deliveries, without reading the deliveries."""
    from institutions.models import District
    from tests.factories import EmployeeFactory
    from warnings_feed import selectors
    from warnings_feed.models import Delivery, Warning
    from warnings_feed.services import rebuild_tallies

    luqiao = District.objects.get(code="331004")
    banks = [InstitutionFactory(), InstitutionFactory()]
    warning = Warning.objects.create(title="通报", body="正文", scope="district", district=luqiao,
                                     publish_at=timezone.now(), fanned_out_at=timezone.now())
    now = timezone.now()
    for n, bank in enumerate(banks):
        for k in range(3 + n):
            Delivery.objects.create(warning=warning, employee=EmployeeFactory(institution=bank), institution=bank,
                                    delivered_at=now, read_at=now if k % 2 == 0 else None,
                                    acknowledged_at=now if k == 0 else None)
    rebuild_tallies()
    client.force_login(UserFactory(roles=["finance_center"]))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/warnings/manage/")
    assert response.status_code == 200
    assert not [q for q in ctx.captured_queries if 'FROM "warnings_feed_delivery"' in q["sql"]]
    where = selectors.rates_scope(UserFactory(roles=["finance_center"]))
    expected = selectors.rates_by_warning([warning.pk], where=where)[warning.pk]
    assert next(r for item, r in response.context["rows"] if item.pk == warning.pk) == expected
    assert [(r.code, r.delivered, r.read, r.acknowledged, r.on_time) for r in response.context["institution_rates"]] \
        == [(r.code, r.delivered, r.read, r.acknowledged, r.on_time)
            for r in selectors.rates_by_institution(where=where)]


# --- admin: a violation type's delete and change pages -------------------------------------------


@pytest.mark.django_db
def test_violation_type_delete_page_counts_the_records_it_blocks(client, monkeypatch):
    """A type used by thousands of point records: the delete page counts them (the same queries
    for 3 and 30 records), refuses, and the change page has no select of every institution."""
    import datetime as dt

    from core.admin_scale import ScaleSafeAdminMixin
    from staff_points.models import PointRecord, ViolationType
    from tests.factories import EmployeeFactory

    monkeypatch.setattr(ScaleSafeAdminMixin, "delete_list_limit", 2)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    vtype = ViolationType.objects.create(code="V9", name="测试违规", module="compliance", points=D("2"))
    employee = EmployeeFactory(institution=InstitutionFactory())

    def add(n):
        PointRecord.objects.bulk_create([
            PointRecord(employee=employee, date=dt.date(YEAR, 1, 1 + i % 28), kind="deduction", violation_type=vtype,
                        module="compliance", points=D("2")) for i in range(n)])

    add(3)
    url = f"/admin/staff_points/violationtype/{vtype.pk}/delete/"
    response, few = _get(client, url)
    assert response.status_code == 200 and "3 条" in response.content.decode()
    add(27)
    response, many = _get(client, url)
    assert "30 条" in response.content.decode() and "受保护" in response.content.decode()
    assert many <= few
    client.post(url, {"post": "yes"})
    assert ViolationType.objects.filter(pk=vtype.pk).exists()
    for _ in range(20):
        InstitutionFactory()
    change = client.get(f"/admin/staff_points/violationtype/{vtype.pk}/change/").content.decode()
    assert change.count("<option") < 20
