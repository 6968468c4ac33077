"""Posters and QR codes are made once and stored (issue 16: 16 s for the province's posters, 27 of
30 s making QR codes on every request)."""

from unittest import mock

import pytest
from django.core.cache import cache

from complaints import qr
from tests.factories import InstitutionFactory, UserFactory


@pytest.fixture
def finance_client(client, settings, tmp_path):
    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "evidence"
    client.force_login(UserFactory(roles=["finance_center"]))
    return client


@pytest.mark.django_db
def test_posters_page_made_once_then_served_from_storage(finance_client, tmp_path):
    institutions = [InstitutionFactory(name=f"海报银行{i}") for i in range(4)]
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as made:
        first = finance_client.get("/complaints/posters/")
        assert first.status_code == 200
        assert made.call_count == 4
        second = finance_client.get("/complaints/posters/")
        assert made.call_count == 4  # nothing made again
    body = first.getvalue()  # streamed from the stored file
    assert second.getvalue() == body
    html = body.decode()
    assert all(i.name in html and i.public_code in html for i in institutions)
    assert html.count("<svg") == 4
    assert first["Content-Disposition"] == 'attachment; filename="posters.html"'
    stored = list((tmp_path / "evidence" / "posters" / "qr").iterdir())
    assert len(stored) == 4


@pytest.mark.django_db
def test_another_process_uses_the_stored_codes(finance_client):
    InstitutionFactory(name="甲"), InstitutionFactory(name="乙")
    finance_client.get("/complaints/posters/")
    cache.clear()  # a process with an empty cache
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as made:
        response = finance_client.get("/complaints/posters/?district=331004")
    assert made.call_count == 0
    assert response.getvalue().decode().count("<svg") == 2


@pytest.mark.django_db
def test_a_change_is_never_served_stale(finance_client):
    bank = InstitutionFactory(name="旧名称银行")
    InstitutionFactory(name="另一家银行")
    assert "旧名称银行" in finance_client.get("/complaints/posters/").getvalue().decode()
    bank.name = "新名称银行"
    bank.save()
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as made:
        html = finance_client.get("/complaints/posters/").getvalue().decode()
    assert "新名称银行" in html and "旧名称银行" not in html
    assert made.call_count == 0  # same URL: the stored code
    # A regenerated public code: a new URL, a new QR code.
    old = bank.public_code
    bank.public_code = "NEWPUBLICCODE123"
    bank.save()
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as made:
        html = finance_client.get("/complaints/posters/").getvalue().decode()
    assert made.call_count == 1
    assert "NEWPUBLICCODE123" in html and old not in html


@pytest.mark.django_db
def test_one_poster_uses_the_stored_code(finance_client):
    bank = InstitutionFactory()
    finance_client.get(f"/complaints/posters/{bank.code}/")
    cache.clear()
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as made:
        response = finance_client.get(f"/complaints/posters/{bank.code}/")
    assert response.status_code == 200 and made.call_count == 0
    assert qr.qr_svg(qr.public_url(bank.public_code, response.wsgi_request), scale=6) in response.content.decode()


@pytest.mark.django_db
def test_a_big_set_not_made_yet_is_made_in_the_background(finance_client, settings, tmp_path,
                                                          django_capture_on_commit_callbacks):
    """Above COMPLAINTS_POSTERS_INLINE institutions whose page was never made, the page offers a
    background export instead of making every QR code in the request (25 s for a province); the job
    makes and stores the page, and the next download streams it."""
    from core.models import ExportJob

    settings.COMPLAINTS_POSTERS_INLINE = 2
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    institutions = [InstitutionFactory(name=f"后台海报银行{i}") for i in range(3)]
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as made:
        offer = finance_client.get("/complaints/posters/")
        assert offer.status_code == 200 and "Content-Disposition" not in offer
        assert "3 家机构" in offer.content.decode() and "在后台生成" in offer.content.decode()
        assert made.call_count == 0 and not ExportJob.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            started = finance_client.post("/complaints/posters/")
        job = ExportJob.objects.get()
        assert started.status_code == 302 and started["Location"] == f"/exports/{job.pk}/"
        job.refresh_from_db()
        assert job.status == "succeeded" and job.kind == "complaints.posters", job.error
        assert made.call_count == 3
        made_in_background = b"".join(finance_client.get(f"/exports/{job.pk}/file/").streaming_content).decode()
        assert made_in_background.count("<svg") == 3
        assert all(f"http://testserver/q/{i.public_code}/" in made_in_background for i in institutions)
        download = finance_client.get("/complaints/posters/")
        assert download["Content-Disposition"] == 'attachment; filename="posters.html"'
        assert download.getvalue().decode() == made_in_background
        assert made.call_count == 3  # nothing made again


@pytest.mark.django_db
def test_only_the_finance_center_starts_posters_and_only_for_its_districts(finance_client, client, settings,
                                                                         tmp_path):
    from core.models import ExportJob

    settings.COMPLAINTS_POSTERS_INLINE = 0
    InstitutionFactory()
    assert finance_client.post("/complaints/posters/?district=331002").status_code == 404  # 椒江: not theirs
    client.force_login(UserFactory(roles=["inspector"]))
    assert client.get("/complaints/posters/").status_code == 403
    assert client.post("/complaints/posters/").status_code == 403
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_a_made_set_of_codes_is_assembled_at_once_and_no_address_is_injected(finance_client, settings, tmp_path,
                                                                             django_capture_on_commit_callbacks):
    """Once the background job made every code, any selection of those institutions (the admin's
    action, one district) is assembled in the request; the posters carry the site the page was asked
    on, never a `base` sent by the client."""
    from core.models import ExportJob

    settings.COMPLAINTS_POSTERS_INLINE = 1
    settings.EXPORTS_ROOT = str(tmp_path / "exports")
    banks = [InstitutionFactory(name=f"组装银行{i}") for i in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        finance_client.post("/complaints/posters/?base=https://evil.example")
    job = ExportJob.objects.get()
    assert job.status == "succeeded", job.error
    made = b"".join(finance_client.get(f"/exports/{job.pk}/file/").streaming_content).decode()
    assert "evil.example" not in made and f"http://testserver/q/{banks[0].public_code}/" in made
    finance_client.force_login(UserFactory(username="fc_admin", roles=["finance_center"], is_staff=True))
    with mock.patch.object(qr, "qr_svg", wraps=qr.qr_svg) as making:
        selection = finance_client.post("/admin/complaints/institutionposter/", {
            "action": "download_posters", "_selected_action": [banks[0].pk, banks[2].pk]})
        assert making.call_count == 0
    assert selection["Content-Disposition"] == 'attachment; filename="posters.html"'
    assert selection.getvalue().decode().count("<svg") == 2


def test_a_job_never_puts_another_sites_address_on_a_poster(settings):
    from complaints.posters import _checked_base

    settings.ALLOWED_HOSTS = ["portal.example.cn", ".luqiao.gov.cn"]
    assert _checked_base("https://portal.example.cn") == "https://portal.example.cn"
    assert _checked_base("https://jr.luqiao.gov.cn/") == "https://jr.luqiao.gov.cn"
    for bad in ("https://evil.example", "javascript:alert(1)", "https://portal.example.cn/x?y=1", "", "//evil"):
        assert _checked_base(bad) == ""


def test_many_public_urls_reverse_once_and_equal_one_by_one():
    """posters build a province's 5,000 form URLs from one reversal; each equals reverse() of its code,
    including a code reverse() would quote (reversed on its own)."""
    from complaints import qr
    from institutions.models import new_public_code

    codes = [new_public_code() for _ in range(50)] + ["a bü%", "-_x"]
    assert qr.public_urls_on("https://example.cn", codes) == [qr.public_url_on("https://example.cn", c)
                                                               for c in codes]
