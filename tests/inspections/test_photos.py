"""On-site photos: checked by content, working copy stripped, original sealed with time and place."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from inspections import photos
from inspections.models import Visit, VisitPhoto
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (60, 40), "green")
    exif = Image.Exif()
    exif[306] = "2026:09:29 10:15:00"
    gps = {1: "N", 2: (28.0, 34.0, 48.0), 3: "E", 4: (121.0, 22.0, 12.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_photo_is_stripped_and_sealed(places):
    data = _jpeg_with_exif()
    r = client_for(places["insp"]).post("/api/v1/inspections/", {
        "institution_code": "TA01", "visited_on": "2026-09-29", "kind": "planned",
        "photo": SimpleUploadedFile("p.jpg", data, content_type="image/jpeg")}, format="multipart")
    assert r.status_code == 201, r.content
    photo = VisitPhoto.objects.get()
    assert photo.taken_at == "2026:09:29 10:15:00" and photo.place.startswith("28.58")
    working = photo.working.open("rb").read()
    assert not Image.open(io.BytesIO(working)).getexif()
    sealed = photo.sealed_original.open("rb").read()
    assert sealed != data and photos.unseal(sealed) == data
    assert r.json()["photos"][0]["sha256"] == photo.original_sha256


def test_bad_photo_is_400_and_nothing_stored(places):
    r = client_for(places["insp"]).post("/api/v1/inspections/", {
        "institution_code": "TA01", "visited_on": "2026-09-29", "kind": "planned",
        "photo": SimpleUploadedFile("p.jpg", b"not an image", content_type="image/jpeg")}, format="multipart")
    assert r.status_code == 400 and "photos" in r.json()
    assert not Visit.objects.exists() and not VisitPhoto.objects.exists()
