import pytest

from tests.complaints.helpers import make_image
from tests.conftest import client_for
from tests.factories import InstitutionFactory, UserFactory, institution_user


@pytest.fixture(autouse=True)
def _complaints_settings(settings, tmp_path):
    settings.COMPLAINTS_EVIDENCE_ROOT = tmp_path / "evidence"
    settings.COMPLAINTS_RATE_SUBMIT_IP = "1000/h"
    settings.COMPLAINTS_RATE_SUBMIT_CODE = "1000/h"
    settings.COMPLAINTS_RATE_TRACK_IP = "1000/m"
    settings.COMPLAINTS_PUBLIC_BASE_URL = ""
    from complaints import selectors

    selectors.clear_holiday_cache()
    selectors.clear_code_cache()
    yield
    selectors.clear_holiday_cache()
    selectors.clear_code_cache()


@pytest.fixture
def bank(db):
    return InstitutionFactory(code="LQ-T01", name="测试农商银行")


@pytest.fixture
def other_bank(db):
    return InstitutionFactory(code="LQ-T02", name="测试城商银行")


@pytest.fixture
def fc(db):
    return UserFactory(username="fc", roles=["finance_center"], is_staff=True, email="fc@example.invalid")


@pytest.fixture
def fc_api(fc):
    return client_for(fc)


@pytest.fixture
def discipline(db):
    return UserFactory(username="disc", roles=["discipline"], email="disc@example.invalid")


@pytest.fixture
def head(bank):
    user = institution_user(bank, "institution_head", username="head1", is_staff=True)
    user.email = "head1@example.invalid"
    user.save()
    return user


@pytest.fixture
def other_head(other_bank):
    return institution_user(other_bank, "institution_head", username="head2", is_staff=True)


@pytest.fixture
def jpeg_with_gps():
    return make_image("JPEG")


@pytest.fixture
def reference_data(transactional_db):
    """What migrations load, re-created for transactional tests: an earlier transactional test
    (anywhere in the suite) may have flushed the database. Idempotent."""
    from django.contrib.auth.models import Group

    from complaints import services
    from institutions.models import District
    from institutions.roles import ROLE_NAMES

    city, _ = District.objects.get_or_create(code="3310", defaults={"name": "台州市", "level": "city"})
    District.objects.get_or_create(code="331004", defaults={"name": "路桥区", "parent": city})
    for role in ROLE_NAMES:
        Group.objects.get_or_create(name=role)
    services.seed_holidays(range(2025, 2028))
