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
