import pytest
from rest_framework.test import APIClient

from tests.factories import InstitutionFactory, UserFactory, institution_user


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def api():
    return APIClient()


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def finance_user(db):
    return UserFactory(username="fc", roles=["finance_center"], is_staff=True)


@pytest.fixture
def two_institutions(db):
    return InstitutionFactory(code="A001", name="甲银行"), InstitutionFactory(code="B001", name="乙保险",
                                                                            category="insurance")


@pytest.fixture
def filer_a(two_institutions):
    return institution_user(two_institutions[0], "institution_filer", username="filer_a", is_staff=True)


@pytest.fixture
def filer_b(two_institutions):
    return institution_user(two_institutions[1], "institution_filer", username="filer_b", is_staff=True)
