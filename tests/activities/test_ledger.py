"""The activity ledger: recording (page and API), bad input, photos stripped, visibility, the
finance center's district view, filters and export."""

import io

import pytest
from openpyxl import load_workbook
from PIL import Image

from activities.models import Activity, ActivityFile

from .conftest import YEAR, client_for, make_activity

pytestmark = pytest.mark.django_db


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif[0x8825] = {1: "N", 2: (28.0, 34.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_filer_records_an_activity_on_the_page(w, kinds):
    r = client_for(w.filer).post("/activities/ledger/new/", {
        "kind": kinds["lq"].pk, "title": "警示教育展", "held_on": f"{YEAR}-03-05", "place": "三楼会议室",
        "participants": [w.emps[0].pk, w.emps[1].pk], "clauses": [w.clauses["1.1"].pk, w.clauses["2.1"].pk]})
    activity = Activity.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/activities/ledger/{activity.pk}/"
    assert activity.institution == w.a and activity.year == YEAR
    assert activity.participant_count == 2
    assert sorted(activity.clauses.values_list("number", flat=True)) == ["1.1", "2.1"]
    page = client_for(w.filer).get(f"/activities/ledger/{activity.pk}/").content.decode()
    assert "警示教育展" in page and "甲员工1" in page and "2.1" in page


@pytest.mark.parametrize("change, field", [
    ({"title": ""}, "title"),
    ({"held_on": "1999-01-01"}, "held_on"),
    ({"kind": "other-district"}, "kind"),
    ({"participants": "employee-of-b"}, "participants"),
    ({"clauses": "no-such-clause"}, "clauses"),
])
def test_bad_activity_is_refused_and_nothing_stored(w, kinds, change, field):
    data = {"kind": kinds["lq"].pk, "title": "活动", "held_on": f"{YEAR}-03-05"}
    value = next(iter(change.values()))
    if value == "other-district":
        data["kind"] = kinds["jj"].pk
    elif value == "employee-of-b":
        data["participants"] = [w.emp_b.pk]
    elif value == "no-such-clause":
        data["clauses"] = [999999]
    else:
        data.update(change)
    r = client_for(w.filer).post("/activities/ledger/new/", data)
    assert r.status_code == 400
    assert not Activity.objects.exists()


def test_api_records_by_clause_number_and_employee_number(w, kinds):
    api = client_for(w.filer)
    r = api.post("/api/v1/activities/", {"kind": kinds["lq"].pk, "title": "廉洁家访", "held_on": f"{YEAR}-05-01",
                                         "participants": ["A1", "A2"], "clauses": ["1.2"]}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["clauses"] == ["1.2"] and sorted(body["participants"]) == ["A1", "A2"]
    assert body["institution"]["code"] == "A001" and body["district"] == "331004"
    bad = api.post("/api/v1/activities/", {"kind": kinds["lq"].pk, "title": "x", "held_on": f"{YEAR}-05-01",
                                           "clauses": ["9.9"]}, format="json")
    assert bad.status_code == 400 and "clauses" in bad.json()
    assert Activity.objects.count() == 1


def test_finance_center_may_read_but_not_record(w, kinds):
    r = client_for(w.fc).post("/api/v1/activities/", {"institution_code": "A001", "kind": kinds["lq"].pk,
                                                      "title": "代登记", "held_on": f"{YEAR}-05-01"}, format="json")
    assert r.status_code == 403
    other = client_for(w.fc_c).post("/api/v1/activities/", {"institution_code": "A001", "kind": kinds["lq"].pk,
                                                            "title": "代登记", "held_on": f"{YEAR}-05-01"},
                                    format="json")
    assert other.status_code == 404
    assert not Activity.objects.exists()


def test_visibility_across_institutions_and_districts(w, kinds):
    mine = make_activity(w, kinds)
    theirs = make_activity(w, kinds, inst=w.b, user=w.filer_b, title="乙的活动")
    jj = make_activity(w, kinds, inst=w.c, user=w.filer_c, title="椒江活动", clause=None)
    assert client_for(w.filer_b).get(f"/activities/ledger/{mine.pk}/").status_code == 404
    assert client_for(w.filer_b).get(f"/api/v1/activities/{mine.pk}/").status_code == 404
    assert client_for(w.fc_c).get(f"/api/v1/activities/{mine.pk}/").status_code == 404
    assert client_for(w.fc).get(f"/api/v1/activities/{jj.pk}/").status_code == 404
    ids = {row["id"] for row in client_for(w.filer).get("/api/v1/activities/").json()["results"]}
    assert ids == {mine.pk}
    ids = {row["id"] for row in client_for(w.fc).get("/api/v1/activities/").json()["results"]}
    assert ids == {mine.pk, theirs.pk}
    # An inspector or an employee is not a user of the ledger.
    assert client_for(w.insp).get("/api/v1/activities/").status_code == 403
    assert client_for(w.insp).get("/activities/ledger/").status_code == 403


def test_finance_filters_and_exports_the_district_ledger(w, kinds):
    make_activity(w, kinds, title="=HYPERLINK(\"x\")")
    make_activity(w, kinds, inst=w.b, user=w.filer_b, title="乙的活动", clause="2.1")
    make_activity(w, kinds, inst=w.c, user=w.filer_c, title="椒江活动", clause=None)
    api = client_for(w.fc)
    assert [r["title"] for r in api.get("/api/v1/activities/?institution=B001").json()["results"]] == ["乙的活动"]
    assert [r["title"] for r in api.get("/api/v1/activities/?clause=2.1").json()["results"]] == ["乙的活动"]
    assert api.get("/api/v1/activities/?year=20260").status_code == 400
    page = api.get("/activities/ledger/?institution=B001").content.decode()
    assert "乙的活动" in page and "HYPERLINK" not in page
    r = api.get("/activities/ledger/export.xlsx")
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    titles = {row[6] for row in rows[1:]}
    assert titles == {"'=HYPERLINK(\"x\")", "乙的活动"}  # formula neutralised; 椒江 absent
    assert ws.cell(row=2, column=4).is_date


def test_photos_are_stripped_and_materials_checked(w, kinds, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ACTIVITIES_FILES_ROOT = str(tmp_path / "files")
    activity = make_activity(w, kinds)
    client = client_for(w.filer)
    original = _jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif()
    r = client.post(f"/activities/ledger/{activity.pk}/files/", {
        "kind": "photo", "files": [SimpleUploadedFile("现场.jpg", original, "image/jpeg")]})
    assert r.status_code == 302
    photo = ActivityFile.objects.get()
    stored = photo.file.read()
    assert not Image.open(io.BytesIO(stored)).getexif()
    assert photo.original_sha256 != ""
    downloaded = b"".join(client.get(f"/activities/files/{photo.pk}/").streaming_content)
    assert downloaded == stored
    assert client_for(w.filer_b).get(f"/activities/files/{photo.pk}/").status_code == 404
    # A program disguised as a PDF is refused, and nothing is stored.
    r = client.post(f"/activities/ledger/{activity.pk}/files/", {
        "kind": "material", "files": [SimpleUploadedFile("方案.pdf", b"MZ\x90\x00binary", "application/pdf")]})
    assert r.status_code == 302 and ActivityFile.objects.count() == 1
    # Another institution's filer cannot add to A's activity.
    r = client_for(w.filer_b).post(f"/activities/ledger/{activity.pk}/files/", {
        "kind": "photo", "files": [SimpleUploadedFile("x.jpg", original, "image/jpeg")]})
    assert r.status_code == 404 and ActivityFile.objects.count() == 1


def test_list_queries_do_not_grow_with_rows(w, kinds, django_assert_max_num_queries):
    for n in range(12):
        make_activity(w, kinds, title=f"活动{n}")
    client = client_for(w.fc)
    client.get("/api/v1/activities/")  # the session's first use
    with django_assert_max_num_queries(14):
        r = client.get("/api/v1/activities/")
    assert r.json()["count"] == 12
    with django_assert_max_num_queries(16):
        assert client.get("/activities/ledger/").status_code == 200


def test_edit_an_activity_and_the_district_catalogue(w, kinds):
    activity = make_activity(w, kinds)
    url = f"/activities/ledger/{activity.pk}/edit/"
    page = client_for(w.filer).get(url).content.decode()
    assert "清风墙揭牌" in page
    r = client_for(w.filer).post(url, {"kind": kinds["lq"].pk, "title": "清风墙揭牌仪式", "held_on": f"{YEAR}-04-02",
                                       "clauses": [w.clauses["1.2"].pk]})
    assert r.status_code == 302
    activity.refresh_from_db()
    assert activity.title == "清风墙揭牌仪式" and list(activity.clauses.values_list("number", flat=True)) == ["1.2"]
    assert client_for(w.fc).get(url).status_code == 403
    assert client_for(w.filer_b).post(url, {"title": "x"}).status_code == 404
    # The catalogue: the finance center adds a kind; a name twice is refused; a filer reads only.
    r = client_for(w.fc).post("/activities/kinds/", {"category": "culture", "name": "廉洁书画展",
                                                     "district": "331004"})
    assert r.status_code == 302
    assert client_for(w.fc).post("/activities/kinds/", {"category": "culture", "name": "廉洁书画展",
                                                        "district": "331004"}).status_code == 400
    assert "廉洁书画展" in client_for(w.filer).get("/activities/kinds/").content.decode()
    assert "廉洁书画展" not in client_for(w.filer_c).get("/activities/kinds/").content.decode()
    assert client_for(w.filer).post("/activities/kinds/", {"category": "culture", "name": "x"}).status_code == 403


def test_pending_returns_on_the_home_page(w):
    from activities import selectors, services

    services.publish_notice(w.fc, services.NoticeInput(title="报送", body="正文", return_kind="form",
                                                       return_within=3))
    assert selectors.pending_returns_count(w.filer) == 1
    assert selectors.pending_returns_count(w.fc) == 0
    assert "份通知待报送" in client_for(w.filer).get("/").content.decode()
