import pytest
from rest_framework.test import APIClient

from tests.factories import InstitutionFactory, UserFactory, institution_user


def pytest_collection_modifyitems(items):
    # Transactional tests end with a flush, which would also wipe the migrations' reference data
    # (districts, role groups); serialized rollback puts it back for the tests that follow.
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker and marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            item.add_marker(pytest.mark.django_db(**{**marker.kwargs, "serialized_rollback": True}))


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
