"""The exchange with the city: a district's published year as a package (JSON + schema, xlsx), the
round trip into a city installation (command and page upload), the city index with the city's
weights and its formula on the city page."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal

import jsonschema
import openpyxl
import pytest
from django.core.management import call_command
from django.test import Client

from institutions.models import District
from scoring import exchange, rules, services
from scoring.models import CityIndexWeights, CityPackage, Result
from tests.conftest import client_for
from tests.factories import UserFactory
from tests.scoring.factories import luqiao

from .conftest import YEAR, scored_year

pytestmark = pytest.mark.django_db
D = Decimal


def page_client(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def published(finance):
    scored_year()
    services.open_notice(services.district_year(luqiao(), YEAR), finance)
    services.publish_year(services.district_year(luqiao(), YEAR), finance)
    return services.district_year(luqiao(), YEAR)


@pytest.fixture
def city_user(db):
    return UserFactory(username="city17", roles=["city"])


def as_other_district(package: dict, code: str = "331099", name: str = "示例区") -> bytes:
    """The same package as if a district of another installation (not in this one) had sent it."""
    other = copy.deepcopy(package)
    other["district"].update(code=code, name=name)
    return json.dumps(other, ensure_ascii=False).encode()


def test_city_index_worked_example_and_custom_weights():
    luqiao_2024 = rules.city_index(4, D("358.93"), {"green": 2, "blue": 0, "yellow": 1, "red": 1}, 1, 1, 1)
    assert luqiao_2024["index"] == D("78.12")
    assert rules.city_index(1, D("30"), {"red": 1}, 0, 0, 0)["index"] == D("45.00")
    heavy = {"score": D("1"), "colour": D("0"), "red_line": D("0"), "complaints": D("0")}
    assert rules.city_index(4, D("358.93"), {"green": 2, "yellow": 1, "red": 1}, 1, 1, 1, heavy)["index"] == D("89.73")
    formula = "指数 = 0.5×积分 + 0.2×四色分布 + 0.2×红线 + 0.1×属实投诉"
    assert rules.city_index_formula(rules.DEFAULT_CITY_WEIGHTS) == formula
    assert rules.city_weight_problems({**heavy, "score": D("0.9")}) == ["四项权重之和必须恰好为 1（当前为 0.9）"]
    assert rules.city_index(0, D(0), {}, 0, 0, 0) is None


def test_the_package_follows_its_schema_and_sums(published, finance):
    response = client_for(finance).get(f"/api/v1/years/{YEAR}/package/")
    assert response.status_code == 200
    package = response.json()
    jsonschema.Draft202012Validator(exchange.schema()).validate(package)
    assert (package["schema"], package["version"], package["year"]) == ("clean-finance/district-results", 1, YEAR)
    assert package["district"] == {"code": "331004", "name": "路桥区", "city": {"code": "3310", "name": "台州市"}}
    stats = package["statistics"]
    assert stats["institutions"] == 3 and stats["colours"] == {"green": 1, "blue": 1, "yellow": 0, "red": 1}
    assert stats["red_lines"] == 1
    red = next(r for r in package["results"] if r["code"] == "R001")
    assert red["linkage"]["performance_appraisal"] == "veto" and red["linkage_points"]["party_building"] == "-5.00"
    xlsx = client_for(finance).get(f"/api/v1/years/{YEAR}/package/xlsx/")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["概况", "结果"] and book["结果"].max_row == 4
    assert client_for(UserFactory(username="anon_schema")).get("/api/v1/exchange/schema/").json()["title"]


def test_no_package_before_publication_and_not_for_others(finance):
    scored_year()
    assert client_for(finance).get(f"/api/v1/years/{YEAR}/package/").status_code == 400
    other = UserFactory(username="fc_jj17", roles=["finance_center"], roles__districts=["331002"])
    assert client_for(other).get(f"/api/v1/years/{YEAR}/package/?district=331004").status_code == 404
    assert client_for(UserFactory(username="nobody17")).get(f"/api/v1/years/{YEAR}/package/").status_code == 403


def test_round_trip_through_the_commands(published, tmp_path, capsys):
    call_command("export_district_package", "--district", "331004", "--year", str(YEAR), "--out", str(tmp_path))
    path = tmp_path / f"district-results-331004-{YEAR}.json"
    assert (tmp_path / f"district-results-331004-{YEAR}.xlsx").exists()
    foreign = tmp_path / "foreign.json"
    foreign.write_bytes(as_other_district(json.loads(path.read_bytes())))
    call_command("import_district_package", str(foreign))
    assert "示例区" in capsys.readouterr().out
    stored = CityPackage.objects.get()
    assert (stored.district.code, stored.district.parent.code, stored.institutions, stored.red_lines) == (
        "331099", "3310", 3, 1)
    call_command("import_district_package", str(foreign))  # the same file again: unchanged
    assert "未改变" in capsys.readouterr().out and CityPackage.objects.count() == 1
    with pytest.raises(Exception, match="1 个数据包未导入"):
        call_command("import_district_package", str(path))  # 路桥 has its own published results here


def test_the_city_page_shows_imported_and_local_districts_with_the_formula(published, finance, city_user):
    package = client_for(finance).get(f"/api/v1/years/{YEAR}/package/").json()
    client = page_client(city_user)
    upload = io.BytesIO(as_other_district(package))
    upload.name = "pkg.json"
    response = client.post("/scoring/city/import/", {"city": "3310", "year": YEAR, "file": upload}, follow=True)
    assert "示例区" in response.content.decode() and "已导入" in response.content.decode()
    page = client.get(f"/scoring/city/?city=3310&year={YEAR}").content.decode()
    assert "指数 = 0.5×积分 + 0.2×四色分布 + 0.2×红线 + 0.1×属实投诉" in page
    assert "路桥区" in page and "示例区" in page and "本系统" in page and "导入" in page
    assert "机构G001" not in page  # aggregates only
    rows = {r["district"].code: r for r in services_rows()}
    assert rows["331004"]["index"] == rows["331099"]["index"] and rows["331004"]["rank"] == 1
    expected = rules.city_index(3, sum(Result.objects.filter(year=YEAR).values_list("total", flat=True)),
                                {"green": 1, "blue": 1, "yellow": 0, "red": 1}, 1, 0, 0)["index"]
    assert rows["331099"]["index"] == expected and rows["331002"]["index"] is None


def services_rows():
    from scoring import selectors

    city = District.objects.get(code="3310")
    return selectors.city_exchange_rows(city, YEAR, services.city_weights(city))


def test_city_weights_change_the_index_and_the_formula(published, city_user):
    client = page_client(city_user)
    before = {r["district"].code: r["index"] for r in services_rows()}["331004"]
    bad = client.post("/scoring/city/weights/", {"city": "3310", "year": YEAR, "score": "0.9", "colour": "0.2",
                                                 "red_line": "0.2", "complaints": "0.1"}, follow=True)
    assert "四项权重之和必须恰好为 1" in bad.content.decode() and not CityIndexWeights.objects.exists()
    client.post("/scoring/city/weights/", {"city": "3310", "year": YEAR, "score": "0.7", "colour": "0.1",
                                           "red_line": "0.1", "complaints": "0.1"})
    page = client.get(f"/scoring/city/?city=3310&year={YEAR}").content.decode()
    assert "指数 = 0.7×积分 + 0.1×四色分布 + 0.1×红线 + 0.1×属实投诉" in page
    assert {r["district"].code: r["index"] for r in services_rows()}["331004"] != before


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda p: b"not json", "不是有效的 JSON"),
    (lambda p: {**p, "version": 2}, "版本 2 不受支持"),
    (lambda p: {**p, "schema": "other"}, "schema 不符"),
    (lambda p: {**p, "statistics": {**p["statistics"], "red_lines": 0}}, "不一致"),
    (lambda p: {**p, "results": [{**p["results"][0], "colour": "purple"}, *p["results"][1:]]}, "格式不符"),
    (lambda p: {**p, "district": {**p["district"], "city": {"code": "3399", "name": "别市"}}}, "不在您可管理"),
    (lambda p: {**p, "published_at": "2026-01-01T00:00:00"}, "published_at"),
])
def test_bad_packages_are_refused_and_nothing_is_stored(published, finance, city_user, mutate, message):
    package = json.loads(as_other_district(client_for(finance).get(f"/api/v1/years/{YEAR}/package/").json()))
    changed = mutate(package)
    raw = changed if isinstance(changed, bytes) else json.dumps(changed, ensure_ascii=False).encode()
    with pytest.raises(Exception) as caught:
        services.import_city_package(raw, city_user)
    assert message in str(caught.value)
    assert not CityPackage.objects.exists() and not District.objects.filter(code="331099").exists()


def test_only_city_users_reach_the_city_page(published, finance):
    assert page_client(finance).get("/scoring/city/").status_code == 403
    other_city = UserFactory(username="city_other", roles=["city"])
    assert page_client(other_city).get("/scoring/city/?city=9999").status_code == 404
