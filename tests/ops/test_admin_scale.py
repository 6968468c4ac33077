"""Admin pages at province scale (issue 16): delete pages count related rows instead of collecting
and formatting each one, and big foreign keys are never select boxes of every row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.admin_scale import ScaleSafeAdminMixin, count_related
from scoring.models import Indicator, Scheme, SheetEntry
from tests.factories import EmployeeFactory, InstitutionFactory, UserFactory
from tests.scoring.factories import assessment_for, build_scheme, fill_sheet
from tests.warnings_feed.conftest import draft
from warnings_feed import services as warning_services
from warnings_feed.models import Delivery, Warning

YEAR = 2026


@pytest.fixture
def superuser_client(client, db):
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(ScaleSafeAdminMixin, "delete_list_limit", 2)


def _sheets(n_institutions):
    scheme = build_scheme(YEAR)
    codes = list(Indicator.objects.filter(scheme=scheme, kind="basic").values_list("code", flat=True))
    for _ in range(n_institutions):
        fill_sheet(assessment_for(InstitutionFactory(), scheme), "self", {c: 1 for c in codes[:3]}, submit=False)
    return scheme


def _get(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response, len(ctx.captured_queries)


@pytest.mark.django_db
def test_indicator_delete_page_counts_protected_entries(superuser_client, small_limit):
    scheme = _sheets(3)
    indicator = Indicator.objects.filter(scheme=scheme, kind="basic").order_by("position").first()
    url = f"/admin/scoring/indicator/{indicator.pk}/delete/"
    response, few = _get(superuser_client, url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "受保护" in page and "3 条" in page
    # Ten times the rows: the same number of queries (nothing is collected row by row).
    scheme2_codes = list(Indicator.objects.filter(scheme=scheme, kind="basic").values_list("code", flat=True))
    for _ in range(27):
        fill_sheet(assessment_for(InstitutionFactory(), scheme), "self", {c: 1 for c in scheme2_codes[:3]},
                   submit=False)
    response, many = _get(superuser_client, url)
    assert "30 条" in response.content.decode()
    assert many <= few
    # Confirming does not delete: protected rows block it.
    superuser_client.post(url, {"post": "yes"})
    assert Indicator.objects.filter(pk=indicator.pk).exists()
    assert SheetEntry.objects.filter(indicator=indicator).count() == 30


@pytest.mark.django_db
def test_scheme_delete_page_follows_cascades_without_loading(superuser_client, small_limit):
    scheme = _sheets(4)
    response, queries = _get(superuser_client, f"/admin/scoring/scheme/{scheme.pk}/delete/")
    assert response.status_code == 200
    page = response.content.decode()
    # The scheme's indicators go with it, but the assessments (PROTECT) block it.
    assert "受保护" in page
    assert queries < 40
    deleted, blocking = count_related(Scheme, Scheme.objects.filter(pk=scheme.pk))
    assert deleted[Indicator] == Indicator.objects.filter(scheme=scheme).count()
    assert sum(blocking.values()) >= 4


@pytest.mark.django_db
def test_small_deletes_keep_djangos_page(superuser_client):
    scheme = build_scheme(YEAR)
    indicator = Indicator.objects.filter(scheme=scheme).first()
    page = superuser_client.get(f"/admin/scoring/indicator/{indicator.pk}/delete/").content.decode()
    assert "受保护" not in page
    superuser_client.post(f"/admin/scoring/indicator/{indicator.pk}/delete/", {"post": "yes"})
    assert not Indicator.objects.filter(pk=indicator.pk).exists()


@pytest.mark.django_db
def test_warning_delete_page_summarises_deliveries_and_deletes(superuser_client, small_limit,
                                                               django_capture_on_commit_callbacks):
    bank = InstitutionFactory()
    for _ in range(8):
        EmployeeFactory(institution=bank)
    finance = UserFactory(username="fc", roles=["finance_center"], is_staff=True)
    with django_capture_on_commit_callbacks(execute=True):
        warning = warning_services.publish(finance, draft())
    assert Delivery.objects.filter(warning=warning).count() >= 8
    url = f"/admin/warnings_feed/warning/{warning.pk}/delete/"
    response = superuser_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "随之删除" in page and "受保护" not in page
    superuser_client.post(url, {"post": "yes"})
    assert not Warning.objects.filter(pk=warning.pk).exists()
    assert not Delivery.objects.filter(warning_id=warning.pk).exists()


@pytest.mark.django_db
def test_big_foreign_keys_are_not_select_boxes(superuser_client):
    banks = [InstitutionFactory(name=f"下拉测试银行{i}") for i in range(25)]
    for bank in banks[:5]:
        EmployeeFactory(institution=bank)
    page = superuser_client.get("/admin/scoring/assignment/add/").content.decode()
    assert sum(b.name in page for b in banks) == 0  # no <option> per institution
    assert 'name="institution"' in page
    assert "admin-autocomplete" in page or "vForeignKeyRawIdAdminField" in page
