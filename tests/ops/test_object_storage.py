"""Files on object storage (issue 16): with the `private` and `default` STORAGES aliases on an S3
server (moto's server mode, a real HTTP S3 API), every stored file goes to the bucket, sealed
originals leave the process encrypted, and downloads still go through the permission checks."""

import contextlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from complaints.crypto import decrypt_bytes
from complaints.models import Complaint, EvidenceImage
from core.storage import PrivateStorage
from tests.complaints.helpers import make_image
from tests.factories import InstitutionFactory, UserFactory
from tests.ops import s3


@pytest.fixture(scope="module")
def endpoint():
    with s3.moto_server() as url:
        yield url


@pytest.fixture
def bucket(endpoint, settings, tmp_path):
    client = s3.client(endpoint)
    with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
        client.create_bucket(Bucket=s3.BUCKET)
    for item in client.list_objects_v2(Bucket=s3.BUCKET).get("Contents", []):
        client.delete_object(Bucket=s3.BUCKET, Key=item["Key"])
    settings.STORAGES = s3.storages_for(endpoint, settings.STORAGES)
    # The local folders must stay empty: point them somewhere we can look.
    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "local-evidence"
    settings.COMPLAINTS_RATE_SUBMIT_IP = settings.COMPLAINTS_RATE_SUBMIT_CODE = "1000/h"
    return endpoint


@pytest.mark.django_db
def test_complaint_photo_goes_to_the_bucket_sealed_and_is_served_by_the_portal(bucket, tmp_path):
    bank = InstitutionFactory(code="S3-T01", name="对象存储银行")
    photo = make_image("JPEG")
    response = Client().post("/api/v1/public/complaints/", {
        "public_code": bank.public_code, "kind": "report", "description": "柜员收红包", "anonymous": "true",
        "images": [SimpleUploadedFile("a.jpg", photo, content_type="image/jpeg")]})
    assert response.status_code == 201, response.content
    image = EvidenceImage.objects.get(complaint__institution=bank)

    stored = s3.keys(bucket)
    working_key = f"private/complaints/{image.working.name}"
    sealed_key = f"private/complaints/{image.sealed_original.name}"
    assert set(stored) >= {working_key, sealed_key}
    # The original left the process encrypted: the bucket never holds the photo or its EXIF.
    assert photo not in stored[sealed_key] and b"SecretCam" not in stored[sealed_key]
    assert decrypt_bytes(stored[sealed_key]) == photo
    assert b"SecretCam" not in stored[working_key]
    assert not (tmp_path / "local-evidence").exists()

    # Served through the portal's checks: the district's finance center gets it, another district not.
    case = Complaint.objects.get(institution=bank)
    finance = Client()
    finance.force_login(UserFactory(username="fc", roles=["finance_center"], is_staff=True))
    served = finance.get(f"/complaints/{case.pk}/images/1/")
    assert served.status_code == 200
    body = b"".join(served.streaming_content)
    assert Image.open(io.BytesIO(body)).size == Image.open(io.BytesIO(photo)).size
    other = Client()
    other.force_login(UserFactory(username="fc2", roles=["finance_center"], roles__districts=["331002"]))
    assert other.get(f"/complaints/{case.pk}/images/1/").status_code == 404
    assert Client().get(f"/complaints/{case.pk}/images/1/").status_code in (302, 403, 404)
    revealed = finance.post(f"/complaints/{case.pk}/images/1/original/", {"reason": "调取原件"})
    assert revealed.status_code == 200 and revealed.content == photo


@pytest.mark.django_db
def test_private_storage_round_trip_and_delete(bucket):
    storage = PrivateStorage("NO_SUCH_SETTING", "reports")
    name = storage.save("2026/report.pdf", io.BytesIO(b"%PDF-1.7 test"))
    again = storage.save("2026/report.pdf", io.BytesIO(b"%PDF-1.7 other"))
    assert name == "2026/report.pdf" and again != name  # never overwritten
    assert storage.exists(name) and storage.size(name) == len(b"%PDF-1.7 test")
    with storage.open(name) as fh:
        assert fh.read() == b"%PDF-1.7 test"
    assert f"private/reports/{name}" in s3.keys(bucket)
    with pytest.raises(NotImplementedError):
        storage.path(name)
    storage.delete(name)
    assert not storage.exists(name)
    assert f"private/reports/{name}" not in s3.keys(bucket)


@pytest.mark.django_db
def test_posters_are_stored_in_the_bucket(bucket, client):
    bank = InstitutionFactory(name="海报对象存储银行")
    client.force_login(UserFactory(username="fc", roles=["finance_center"]))
    page = client.get("/complaints/posters/").getvalue().decode()
    assert bank.name in page
    stored = s3.keys(bucket)
    assert any(k.startswith("private/posters/qr/") for k in stored)
    assert any(k.startswith("private/posters/pages/") for k in stored)
