"""Pages: the inspector records a visit and findings, the institution replies, the finance center
returns and accepts; refusals leave the database unchanged."""

import io

import pytest
from django.test import Client
from PIL import Image

from inspections.models import Finding, PlanEntry, Visit
from tracking.models import TrackedItem

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(out, "JPEG")
    out.seek(0)
    out.name = "现场.jpg"
    return out


def test_the_whole_flow_on_pages(places):
    insp = _client(places["insp"])
    assert insp.get("/inspections/").status_code == 200
    assert insp.get("/inspections/new/").status_code == 200
    r = insp.post("/inspections/new/", {"institution_code": "TA01", "visited_on": "2026-09-29", "kind": "unannounced",
                                        "team": "王检、李查", "notes": "暗访营业厅", "joint_with_discipline": "on",
                                        "photos": [_jpeg()]})
    visit = Visit.objects.get()
    assert r.status_code == 302 and visit.joint_with_discipline and visit.team == ["王检", "李查"]
    assert visit.photos.count() == 1 and visit.photos.get().sealed_original
    for clause in ("3.2", "1.1"):
        insp.post(f"/inspections/{visit.pk}/findings/", {"clause": clause, "description": f"问题{clause}",
                                                         "severity": "minor", "rectify_within": "5"})
    assert Finding.objects.count() == 2
    page = insp.get(f"/inspections/{visit.pk}/").content.decode()
    assert "路金清整〔2026〕1号" in page and "问题3.2" in page
    photo = visit.photos.get()
    assert insp.get(f"/inspections/photos/{photo.pk}/").status_code == 200

    one, two = Finding.objects.order_by("id")
    filer = _client(places["filer_a"])
    assert "问题3.2" in filer.get("/rectifications/").content.decode()
    for f in (one, two):
        filer.post(f"/rectifications/{f.pk}/report/", {"measures": "已整改"})
    fc = _client(places["fc"])
    fc.post(f"/rectifications/{one.pk}/return/", {"reason": "佐证不足", "rectify_within": "3"})
    fc.post(f"/rectifications/{two.pk}/accept/", {})
    assert TrackedItem.objects.get(pk=one.tracked_item_id).status == "open"
    assert TrackedItem.objects.get(pk=two.tracked_item_id).status == "closed"
    assert fc.get("/rectifications/?status=open").status_code == 200
    assert fc.get(f"/rectifications/{one.pk}/").status_code == 200


def test_refused_on_pages(places):
    insp = _client(places["insp"])
    insp.post("/inspections/new/", {"institution_code": "TA01", "visited_on": "2026-09-29", "kind": "planned"})
    visit = Visit.objects.get()
    r = insp.post(f"/inspections/{visit.pk}/findings/", {"clause": "2.1", "description": "x", "severity": "minor",
                                                         "rectify_within": "5"})
    assert r.status_code == 302 and not Finding.objects.exists()
    assert _client(places["filer_a"]).get("/inspections/").status_code == 403
    assert _client(places["filer_a"]).post(f"/inspections/{visit.pk}/findings/", {
        "clause": "3.2", "description": "x", "severity": "minor", "rectify_within": "5"}).status_code == 403
    assert _client(places["filer_b"]).get(f"/inspections/{visit.pk}/").status_code == 404
    assert _client(places["fc_jj"]).get(f"/inspections/{visit.pk}/").status_code == 404
    assert not Finding.objects.exists()
    r = insp.post("/inspections/new/", {"institution_code": "TC01", "visited_on": "2026-09-29", "kind": "planned"})
    assert r.status_code == 200 and Visit.objects.count() == 1


def test_plan_page_and_import(places):
    from openpyxl import Workbook

    fc = _client(places["fc"])
    assert fc.get("/inspections/plan/?year=2026").status_code == 200
    fc.post("/inspections/plan/", {"year": "2026", "district": "331004", "institution_code": "TA01", "month": "3",
                                   "kind": "planned", "team": "第一组"})
    assert PlanEntry.objects.count() == 1
    wb = Workbook()
    ws = wb.active
    ws.append(["机构编码", "月份", "检查方式", "检查组", "会同纪委"])
    ws.append(["TB01", 4, "明察暗访", "第二组", "是"])
    ws.append(["TC01", 5, "", "", ""])  # another district's: the whole file is refused
    out = io.BytesIO()
    wb.save(out)
    upload = io.BytesIO(out.getvalue())
    upload.name = "plan.xlsx"
    fc.post("/inspections/plan/", {"year": "2026", "district": "331004", "file": upload})
    assert PlanEntry.objects.count() == 1
    ws.delete_rows(3)
    out = io.BytesIO()
    wb.save(out)
    upload = io.BytesIO(out.getvalue())
    upload.name = "plan.xlsx"
    fc.post("/inspections/plan/", {"year": "2026", "district": "331004", "file": upload})
    entry = PlanEntry.objects.get(institution__code="TB01")
    assert entry.kind == "unannounced" and entry.joint_with_discipline and entry.month == 4
    assert _client(places["insp"]).get("/inspections/plan/").status_code == 403
    r = fc.post("/inspections/plan/", {"year": "abc", "district": "331004", "institution_code": "TA01", "month": "13"})
    assert r.status_code == 302 and PlanEntry.objects.count() == 2
