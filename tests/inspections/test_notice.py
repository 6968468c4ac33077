"""The rectification notice: numbered per district and year, listing the findings and due dates."""

import io
import re
import subprocess

import pytest
from django.template.loader import render_to_string
from pypdf import PdfReader

from inspections import services
from inspections.models import Visit
from inspections.notice import notice_context
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _visit(user, code, day):
    r = client_for(user).post("/api/v1/inspections/", {"institution_code": code, "visited_on": day,
                                                         "kind": "planned", "team": ["王检"]}, format="json")
    return r.json()["id"]


def _finding(user, visit_id, clause, n, text):
    return client_for(user).post(f"/api/v1/inspections/{visit_id}/findings/", {
        "clause": clause, "description": text, "severity": "major", "rectify_within": n}, format="json")


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace(" ", "").replace("\n", "")


def test_numbering_per_district_and_year(places):
    first = _visit(places["insp"], "TA01", "2026-03-02")
    _finding(places["insp"], first, "3.2", 5, "未建立廉洁风险台账")
    second = _visit(places["insp"], "TB01", "2026-03-03")
    _finding(places["insp"], second, "1.1", 5, "问题甲")
    _finding(places["insp"], second, "1.2", 5, "问题乙")  # one notice per visit
    empty = _visit(places["insp"], "TB01", "2026-03-04")
    other = _visit(places["insp_jj"], "TC01", "2026-03-04")
    _finding(places["insp_jj"], other, "2.1", 5, "问题丙")
    numbers = dict(Visit.objects.values_list("pk", "notice_number"))
    assert numbers == {first: "路金清整〔2026〕1号", second: "路金清整〔2026〕2号", empty: "",
                       other: "椒金清整〔2026〕1号"}
    assert client_for(places["fc"]).get(f"/api/v1/inspections/{empty}/notice/").status_code == 404


def _cjk_font() -> bool:
    """Whether the PDF can carry Chinese text here (CI installs fonts-noto-cjk; .ci/run)."""
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


EXPECTED = ("整改通知书", "路金清整〔2026〕1号", "甲银行", "第3.2条", "未公示廉洁从业承诺", "礼品登记簿缺失",
            "2026年10月12日", "2026年10月9日", "路桥区金融工作中心")


def test_notice_pdf_content_and_access(places, tmp_path):
    visit_id = _visit(places["insp"], "TA01", "2026-09-29")
    _finding(places["insp"], visit_id, "3.2", 5, "未公示廉洁从业承诺")
    _finding(places["insp"], visit_id, "1.1", 3, "礼品登记簿缺失")
    r = client_for(places["filer_a"]).get(f"/api/v1/inspections/{visit_id}/notice/")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF") and len(PdfReader(io.BytesIO(r.content)).pages) == 1
    visit = Visit.objects.get()
    html = re.sub(r"\s+", "", render_to_string("inspections/notice.html", notice_context(visit)))
    for expected in EXPECTED:
        assert expected in html, expected
    if _cjk_font():
        text = _text(r.content)
        for expected in EXPECTED:
            assert expected in text, expected
    assert visit.notice_pdf  # archived with the visit
    assert client_for(places["filer_b"]).get(f"/api/v1/inspections/{visit_id}/notice/").status_code == 404
    assert client_for(places["fc_jj"]).get(f"/api/v1/inspections/{visit_id}/notice/").status_code == 404
    # A later finding re-renders the archived notice.
    _finding(places["insp"], visit_id, "1.2", 5, "新增问题丁")
    again = services.notice_pdf(Visit.objects.get())
    assert again != r.content
    if _cjk_font():
        assert "新增问题丁" in _text(again)
    out = tmp_path / "notice.pdf"
    out.write_bytes(r.content)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(out), str(tmp_path / "notice")], check=True)
    assert (tmp_path / "notice.png").stat().st_size > 1000


def test_the_notice_is_rendered_after_the_finding_commits(places, django_capture_on_commit_callbacks, monkeypatch):
    """A worker stores the notice once a finding is added, so the first download is the stored file;
    a finding added while a render is under way keeps that render from storing the older notice."""
    from inspections import notice as notice_module

    visit_id = _visit(places["insp"], "TA01", "2026-09-29")
    with django_capture_on_commit_callbacks(execute=True):
        assert _finding(places["insp"], visit_id, "3.2", 5, "未公示廉洁从业承诺").status_code == 201
    visit = Visit.objects.get()
    assert visit.notice_pdf
    stored = visit.notice_pdf.read()
    visit.notice_pdf.close()
    renders = []
    monkeypatch.setattr(notice_module, "render_notice", lambda v: renders.append(v.pk) or b"%PDF-new")
    assert client_for(places["filer_a"]).get(f"/api/v1/inspections/{visit_id}/notice/").content == stored
    assert renders == [] and services.prerender_notice(visit_id) is False  # stored: nothing to do

    # A second finding lands while a render of the first state is running: that render is not stored.
    Visit.objects.filter(pk=visit_id).update(notice_pdf="")

    def render_while_a_finding_is_added(v):
        with django_capture_on_commit_callbacks(execute=False):
            _finding(places["insp"], visit_id, "1.1", 3, "礼品登记簿缺失")
        return b"%PDF-old"

    monkeypatch.setattr(notice_module, "render_notice", render_while_a_finding_is_added)
    assert services.prerender_notice(visit_id) is True
    assert not Visit.objects.get().notice_pdf
    monkeypatch.setattr(notice_module, "render_notice", lambda v: b"%PDF-new")
    assert services.prerender_notice(visit_id) is True
    assert Visit.objects.get().notice_pdf.read() == b"%PDF-new"
    assert services.prerender_notice(999999) is False


def test_a_lost_archived_notice_is_rendered_and_archived_again(places, monkeypatch):
    from inspections import notice as notice_module

    visit_id = _visit(places["insp"], "TA01", "2026-09-29")
    _finding(places["insp"], visit_id, "3.2", 5, "未公示廉洁从业承诺")
    first = services.notice_pdf(Visit.objects.get())
    visit = Visit.objects.get()
    lost = visit.notice_pdf.name
    visit.notice_pdf.storage.delete(lost)  # the store lost it
    monkeypatch.setattr(notice_module, "render_notice", lambda v: b"%PDF-again")
    assert services.notice_pdf(Visit.objects.get()) == b"%PDF-again"
    visit = Visit.objects.get()
    assert visit.notice_pdf and visit.notice_pdf.read() == b"%PDF-again"
    assert first.startswith(b"%PDF")
    assert services.prerender_notice(visit_id) is False  # archived again: nothing left to do


def test_a_failing_render_does_not_fail_the_finding(places, django_capture_on_commit_callbacks, monkeypatch, caplog):
    """The finding stands (201) when the render in advance fails; the download renders it later."""
    from inspections import notice as notice_module
    from inspections.models import Finding

    def broken(v):
        raise RuntimeError("no fonts")

    monkeypatch.setattr(notice_module, "render_notice", broken)
    visit_id = _visit(places["insp"], "TA01", "2026-09-29")
    with django_capture_on_commit_callbacks(execute=True):
        assert _finding(places["insp"], visit_id, "3.2", 5, "未公示廉洁从业承诺").status_code == 201
    assert Finding.objects.count() == 1 and not Visit.objects.get().notice_pdf
    assert "could not be rendered in advance" in caplog.text
    monkeypatch.setattr(notice_module, "render_notice", lambda v: b"%PDF-later")
    assert client_for(places["filer_a"]).get(f"/api/v1/inspections/{visit_id}/notice/").content == b"%PDF-later"


def test_a_finding_that_rolls_back_keeps_the_archived_notice(places):
    from django.db import transaction

    visit_id = _visit(places["insp"], "TA01", "2026-09-29")
    _finding(places["insp"], visit_id, "3.2", 5, "未公示廉洁从业承诺")
    services.notice_pdf(Visit.objects.get())
    archived = Visit.objects.get().notice_pdf
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_finding(Visit.objects.get(), places["insp"], clause="1.1", description="回滚的问题",
                             severity="minor", rectify_within=5)
        raise RuntimeError("rolled back")
    visit = Visit.objects.get()
    assert visit.notice_pdf.name == archived.name and visit.notice_pdf.storage.exists(archived.name)
