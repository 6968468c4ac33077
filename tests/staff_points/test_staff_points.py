import datetime as dt
import io
from decimal import Decimal

import pytest
import tablib

from core.errors import DomainError, NotAllowed, StateConflict
from institutions.models import Employee
from staff_points import selectors, services
from staff_points.models import BlacklistEntry, Exemplar, PointRecord, PortraitView, ViolationType
from staff_points.services import RecordInput
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory, institution_user

pytestmark = pytest.mark.django_db
YEAR = 2026
DAY = dt.date(YEAR, 3, 1)


@pytest.fixture
def catalogue():
    ViolationType.objects.create(code="V01", name="收受礼品", module="discipline", points=Decimal("10"))
    ViolationType.objects.create(code="V02", name="违规放贷", module="compliance", points=Decimal("25"))
    ViolationType.objects.create(code="R02", name="酒驾", module="red_line", points=Decimal("30"), is_red_line=True)


@pytest.fixture
def setup(catalogue, finance_user):
    bank = InstitutionFactory(code="A001")
    other = InstitutionFactory(code="B001")
    head = institution_user(bank, "institution_head", username="head_a")
    employee_user = UserFactory(username="emp_a", roles=["employee"])
    employee = EmployeeFactory(institution=bank, name="黄小明", employee_no="E1", user=employee_user)
    colleague = EmployeeFactory(institution=bank, name="李四", employee_no="E2")
    stranger = EmployeeFactory(institution=other, name="王五", employee_no="E9")
    return {"bank": bank, "head": head, "employee": employee, "colleague": colleague, "stranger": stranger,
            "finance": finance_user, "employee_user": employee_user}


def deduct(user, employee, code, day=DAY):
    return services.record_points(user, employee, RecordInput(date=day, kind="deduction", violation_code=code))


def test_totals_and_colours_follow_scoring_md(setup):
    finance, employee = setup["finance"], setup["employee"]
    deduct(finance, employee, "V01")
    services.record_points(finance, employee, RecordInput(date=DAY, kind="commendation", module="publicity",
                                                                 points=Decimal("6")))
    services.record_points(finance, employee, RecordInput(date=DAY, kind="commendation", module="publicity",
                                                                 points=Decimal("7")))
    deduct(finance, employee, "V01", day=dt.date(YEAR - 1, 12, 31))  # other year: not counted
    points = selectors.yearly_points(YEAR, setup["bank"].pk)
    mine = points[employee.pk]
    assert mine.total == Decimal("100.00") - 10 + 10  # commendations capped at 10
    assert mine.colour == "green"
    assert points[setup["colleague"].pk].total == Decimal("100.00")
    deduct(finance, employee, "V02")
    assert selectors.yearly_points(YEAR, setup["bank"].pk)[employee.pk].colour == "yellow"  # 75


def test_total_never_negative(setup):
    for _ in range(5):
        deduct(setup["finance"], setup["employee"], "V02")
    assert selectors.yearly_points(YEAR, employee_ids=[setup["employee"].pk])[
        setup["employee"].pk].total == Decimal("0.00")


def test_red_line_proposes_then_finance_confirms_and_it_is_published_masked(setup, api):
    record = deduct(setup["head"], setup["employee"], "R02")
    entry = BlacklistEntry.objects.get(record=record)
    assert entry.status == "proposed"
    pk = setup["employee"].pk
    assert selectors.yearly_points(YEAR, employee_ids=[pk])[pk].colour == "red"
    assert api.get("/api/v1/public/blacklist/").json()["count"] == 0  # not before confirmation
    with pytest.raises(NotAllowed):
        services.decide_blacklist(setup["head"], entry, True, "ok")
    with pytest.raises(DomainError):
        services.decide_blacklist(setup["finance"], entry, True, "   ")
    services.decide_blacklist(setup["finance"], entry, True, "经核实属实")
    # Listed publicly only once the district chose to publish its blacklist (off by default).
    assert api.get("/api/v1/public/blacklist/").json()["count"] == 0
    setup["bank"].district.__class__.objects.filter(pk=setup["bank"].district_id).update(publish_blacklist=True)
    body = api.get("/api/v1/public/blacklist/").json()
    assert body["count"] == 1
    assert body["results"][0]["name"] == "黄某" and "小明" not in str(body)
    with pytest.raises(StateConflict):
        services.decide_blacklist(setup["finance"], entry, False, "again")


def test_rejected_proposal_is_not_published(setup, api):
    entry = deduct(setup["finance"], setup["employee"], "R02").blacklist_entry
    services.decide_blacklist(setup["finance"], entry, False, "证据不足")
    assert api.get("/api/v1/public/blacklist/").json()["count"] == 0


def test_institution_user_cannot_record_for_another_institution(setup):
    with pytest.raises(NotAllowed):
        deduct(setup["head"], setup["stranger"], "V01")
    assert not PointRecord.objects.exists()


def test_unknown_type_and_future_date_refused(setup):
    with pytest.raises(DomainError, match="未知违规类型"):
        deduct(setup["finance"], setup["employee"], "NOPE")
    with pytest.raises(DomainError, match="晚于今天"):
        deduct(setup["finance"], setup["employee"], "V01", day=dt.date.today() + dt.timedelta(days=2))
    assert not PointRecord.objects.exists()


def dataset(rows):
    data = tablib.Dataset(headers=["institution_code", "employee_no", "date", "kind", "violation_code", "module",
                                   "points", "source", "note"])
    for row in rows:
        data.append(row)
    return data


def test_import_with_bad_rows_stores_nothing_and_reports_each(setup):
    report = services.import_records(dataset([
        ["A001", "E1", "2026-03-01", "deduction", "V01", "", "", "accounting_check", "ok"],     # line 2 fine
        ["A001", "E404", "2026-03-01", "deduction", "V01", "", "", "accounting_check", ""],     # 3 unknown employee
        ["A001", "E1", "2026-03-01", "deduction", "V99", "", "", "credit_check", ""],           # 4 unknown type
        ["A001", "E1", "2025-12-31", "deduction", "V01", "", "", "audit_report", ""],           # 5 outside year
    ]), YEAR)
    lines = {p.line: p.message for p in report.problems}
    assert set(lines) == {3, 4, 5}
    assert "E404" in lines[3] and "V99" in lines[4] and "2025-12-31" in lines[5]
    assert not PointRecord.objects.exists()


def test_import_good_file_and_red_line_proposal(setup):
    report = services.import_records(dataset([
        ["A001", "E1", "2026-03-01", "deduction", "V01", "", "", "accounting_check", ""],
        ["A001", "E2", "2026-04-01", "deduction", "R02", "", "", "external", "通报"],
        ["A001", "E2", "2026-04-02", "commendation", "", "publicity", "2", "manual", "表彰"],
    ]), YEAR)
    assert report.ok, report.problems
    assert PointRecord.objects.count() == 3
    assert BlacklistEntry.objects.get().employee.employee_no == "E2"


def test_import_scoped_to_the_users_institution(setup):
    report = services.import_records(dataset([
        ["B001", "E9", "2026-03-01", "deduction", "V01", "", "", "manual", ""],
    ]), YEAR, user=setup["head"])
    assert not report.ok and "未知员工" in report.problems[0].message
    assert not PointRecord.objects.exists()


def test_portrait_access_rules_and_view_log(setup, client):
    employee, colleague = setup["employee"], setup["colleague"]
    deduct(setup["finance"], employee, "V01")
    client.force_login(setup["employee_user"])
    resp = client.get(f"/points/employees/{employee.pk}/")
    assert resp.status_code == 200 and "90.00" in resp.content.decode() and "module-chart" in resp.content.decode()
    assert client.get(f"/points/employees/{colleague.pk}/").status_code == 404  # only their own
    assert not PortraitView.objects.exists()  # own views are not logged
    client.force_login(setup["head"])
    assert client.get(f"/points/employees/{colleague.pk}/").status_code == 200
    assert client.get(f"/points/employees/{setup['stranger'].pk}/").status_code == 404
    client.force_login(setup["finance"])
    assert client.get(f"/points/employees/{setup['stranger'].pk}/").status_code == 200
    assert list(PortraitView.objects.values_list("viewer__username", flat=True).order_by("pk")) == ["head_a", "fc"]


def test_me_redirects_employee_to_own_portrait(setup, client):
    client.force_login(setup["employee_user"])
    resp = client.get("/points/me/")
    assert resp.status_code == 302 and resp["Location"].endswith(f"/points/employees/{setup['employee'].pk}/")


def test_exemplar_proposals_and_confirmation(setup):
    deduct(setup["finance"], setup["employee"], "V01")
    proposals = selectors.exemplar_proposals(setup["bank"].pk, YEAR)
    assert [p.employee_id for p in proposals] == [setup["colleague"].pk]
    services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    with pytest.raises(StateConflict):
        services.confirm_exemplar(setup["head"], setup["employee"], YEAR)


def test_a_deduction_withdraws_the_years_confirmed_exemplar(setup, client):
    services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    client.force_login(setup["head"])
    page = client.get(f"/points/staff/?year={YEAR}").content.decode()
    assert page.count(">清廉典型</span>") == 1  # confirmed: shown as such, no button to confirm it again
    assert "确认为清廉典型" in page  # the other proposal (黄小明) still has one
    # A commendation and a deduction of another year leave the confirmation standing.
    services.record_points(setup["head"], setup["colleague"], RecordInput(
        date=DAY, kind="commendation", module="publicity", points=Decimal("2")))
    deduct(setup["head"], setup["colleague"], "V01", day=dt.date(YEAR - 1, 12, 31))
    assert Exemplar.objects.get().withdrawn_at is None
    resp = client.post(f"/points/employees/{setup['colleague'].pk}/record/", {
        "date": "2026-03-02", "kind": "deduction", "violation_code": "V01", "source": "manual"}, follow=True)
    assert f"其 {YEAR} 年度清廉典型确认已撤销" in resp.content.decode()
    exemplar = Exemplar.objects.get()
    assert exemplar.withdrawn_at is not None
    assert exemplar.withdrawn_because == PointRecord.objects.get(date=dt.date(2026, 3, 2))
    assert ">清廉典型</span>" not in client.get(f"/points/staff/?year={YEAR}").content.decode()
    assert selectors.confirmed_exemplars(setup["bank"].pk, YEAR) == set()
    # Confirming again is refused while the deduction stands; once it is removed, it is a new confirmation.
    with pytest.raises(StateConflict):
        services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    PointRecord.objects.filter(date__year=YEAR, kind="deduction").delete()
    services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    exemplar.refresh_from_db()
    assert (exemplar.withdrawn_at, exemplar.withdrawn_because) == (None, None)
    assert selectors.confirmed_exemplars(setup["bank"].pk, YEAR) == {setup["colleague"].pk}


def test_an_imported_deduction_withdraws_the_exemplar_too(setup):
    services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    services.confirm_exemplar(setup["head"], setup["employee"], YEAR)
    report = services.import_records(dataset([
        ["A001", "E2", "2026-04-01", "deduction", "V02", "", "", "external", ""],
        ["A001", "E1", "2026-04-02", "commendation", "", "publicity", "2", "manual", ""],
    ]), YEAR)
    assert report.ok, report.problems
    assert selectors.confirmed_exemplars(setup["bank"].pk, YEAR) == {setup["employee"].pk}
    assert Exemplar.objects.get(employee=setup["colleague"]).withdrawn_because.violation_type.code == "V02"


def _admin_import(client, rows):
    csv = "institution_code,employee_no,date,kind,violation_code,module,points,source,note\n" + "".join(
        ",".join(row) + "\n" for row in rows)
    resp = client.post("/admin/staff_points/pointrecord/import/", {
        "import_file": io.BytesIO(csv.encode()), "format": "0", "resource": "0", "year": str(YEAR)})  # 0: CSV
    assert resp.status_code == 200 and "confirm_form" in resp.context, resp.content.decode()[-3000:]
    assert not PointRecord.objects.exists()  # the preview stores nothing
    return resp.context["confirm_form"].initial


def test_admin_import_confirmed_proposes_the_blacklist_and_withdraws_the_exemplar(setup, client):
    services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))  # no role imports here
    confirm = _admin_import(client, [["A001", "E1", "2026-04-01", "deduction", "R02", "", "", "external", ""],
                                     ["A001", "E2", "2026-04-02", "deduction", "V01", "", "", "manual", ""]])
    assert not BlacklistEntry.objects.exists() and Exemplar.objects.get().withdrawn_at is None
    resp = client.post("/admin/staff_points/pointrecord/process_import/", confirm)
    assert resp.status_code == 302 and PointRecord.objects.count() == 2
    assert BlacklistEntry.objects.get().employee == setup["employee"]
    assert Exemplar.objects.get().withdrawn_because.violation_type.code == "V01"


def test_admin_import_is_refused_whole_when_a_row_no_longer_passes_at_confirmation(setup, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    confirm = _admin_import(client, [["A001", "E1", "2026-04-01", "deduction", "R02", "", "", "external", ""],
                                     ["A001", "E2", "2026-04-02", "deduction", "V01", "", "", "manual", ""]])
    ViolationType.objects.filter(code="V01").update(is_active=False)  # switched off between preview and confirm
    resp = client.post("/admin/staff_points/pointrecord/process_import/", confirm, follow=True)
    page = resp.content.decode()
    assert "未导入任何数据" in page and "第 3 行" in page and "V01" in page
    assert not PointRecord.objects.exists() and not BlacklistEntry.objects.exists()


def test_a_record_added_in_the_admin_proposes_and_withdraws_as_recording_does(setup, client):
    services.confirm_exemplar(setup["head"], setup["colleague"], YEAR)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    red = ViolationType.objects.get(code="R02")
    for employee, vtype in ((setup["colleague"], red), (setup["colleague"], red)):
        resp = client.post("/admin/staff_points/pointrecord/add/", {
            "employee": employee.pk, "date": "2026-05-06", "kind": "deduction", "violation_type": vtype.pk,
            "module": "red_line", "points": "30", "is_red_line": "on", "source": "manual", "note": "",
            "evidence": ""})
        assert resp.status_code == 302, resp.content.decode()[-2000:]
    assert BlacklistEntry.objects.filter(employee=setup["colleague"]).count() == 2  # one per record
    assert Exemplar.objects.get().withdrawn_because == PointRecord.objects.order_by("pk").first()


def test_the_migration_withdraws_confirmations_a_deduction_of_their_year_already_contradicts():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("staff_points.migrations.0005_exemplar_withdrawn")
    employee, other = EmployeeFactory(employee_no="M1"), EmployeeFactory(employee_no="M2")
    vtype = ViolationType.objects.create(code="V09", name="迟到", module="discipline", points=Decimal("1"))
    stale = Exemplar.objects.create(employee=employee, year=YEAR)  # confirmed, then a deduction written past it
    standing = Exemplar.objects.create(employee=other, year=YEAR)
    record = PointRecord.objects.create(employee=employee, date=DAY, kind="deduction", violation_type=vtype,
                                        module="discipline", points=Decimal("1"))
    PointRecord.objects.create(employee=other, date=dt.date(YEAR - 1, 5, 1), kind="deduction", violation_type=vtype,
                               module="discipline", points=Decimal("1"))  # another year's
    migration.withdraw_standing(apps, None)
    stale.refresh_from_db()
    standing.refresh_from_db()
    assert stale.withdrawn_because == record and stale.withdrawn_at is not None
    assert standing.withdrawn_at is None


def test_staff_page_query_count_is_constant(setup, client, django_assert_max_num_queries):
    for n in range(30):
        EmployeeFactory(institution=setup["bank"], employee_no=f"X{n}")
    client.force_login(setup["head"])
    with django_assert_max_num_queries(20):
        assert client.get(f"/points/staff/?year={YEAR}").status_code == 200
    assert Employee.objects.filter(institution=setup["bank"]).count() == 32


def test_public_blacklist_needs_no_login_and_is_listed_in_schema(setup, api):
    assert api.get("/api/v1/public/blacklist/").status_code == 200
    api.force_authenticate(setup["finance"])
    assert "/api/v1/public/blacklist/" in api.get("/api/schema/?format=json").json()["paths"]


def test_record_page_form(setup, client):
    client.force_login(setup["head"])
    resp = client.post(f"/points/employees/{setup['employee'].pk}/record/", {
        "date": "2026-03-02", "kind": "deduction", "violation_code": "V01", "source": "manual"})
    assert resp.status_code == 302 and PointRecord.objects.count() == 1
    resp = client.post(f"/points/employees/{setup['stranger'].pk}/record/", {
        "date": "2026-03-02", "kind": "deduction", "violation_code": "V01", "source": "manual"})
    assert resp.status_code == 404 and PointRecord.objects.count() == 1



def test_blacklist_page_masks_other_institutions_staff(setup, client):
    """A filer of another institution reads the published list masked (黄某); the employee's own
    institution and the district's finance center read the name."""
    deduct(setup["finance"], setup["employee"], "R02")
    entry = BlacklistEntry.objects.get(employee=setup["employee"])
    services.decide_blacklist(setup["finance"], entry, True, "经核实属实")
    other_filer = institution_user(InstitutionFactory._meta.model.objects.get(code="B001"), "institution_filer",
                                   username="filer_b_bl")
    for user, shown, hidden in ((other_filer, "黄某", "黄小明"), (setup["head"], "黄小明", None),
                                (setup["finance"], "黄小明", None)):
        client.force_login(user)
        page = client.get("/points/blacklist/").content.decode()
        assert shown in page
        if hidden:
            assert hidden not in page


def test_blacklist_page_masks_names_in_the_reason_for_other_institutions(setup, client):
    """The decision's reason is free text: another institution's filer reads its names masked too."""
    deduct(setup["finance"], setup["employee"], "R02")
    entry = BlacklistEntry.objects.get(employee=setup["employee"])
    services.decide_blacklist(setup["finance"], entry, True, "经核实，黄小明收受客户礼金属实")
    other_filer = institution_user(InstitutionFactory._meta.model.objects.get(code="B001"), "institution_filer",
                                   username="filer_b_reason")
    client.force_login(other_filer)
    page = client.get("/points/blacklist/").content.decode()
    assert "经核实，黄某收受客户礼金属实" in page and "小明" not in page
    client.force_login(setup["head"])
    assert "经核实，黄小明收受客户礼金属实" in client.get("/points/blacklist/").content.decode()
