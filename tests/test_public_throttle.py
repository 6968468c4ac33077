"""The public, no-login API reads (public warnings, blacklist) are rate-limited per client address."""

import pytest
from django.core.cache import cache
from django.test import Client

from institutions.api.throttling import PublicReadThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_per_minute(monkeypatch):
    monkeypatch.setattr(PublicReadThrottle, "THROTTLE_RATES", {"public_read": "3/min"})
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", ["/api/v1/public/warnings/", "/api/v1/public/blacklist/"])
def test_public_reads_are_limited_per_address(three_per_minute, path):
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    resp = client.get(path)
    assert resp.status_code == 429 and resp.json()["detail"]
    assert int(resp["Retry-After"]) > 0
    # Another address is not affected, and a forged X-Forwarded-For does not open a new allowance.
    assert Client(REMOTE_ADDR="203.0.113.8").get(path).status_code == 200
    assert client.get(path, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
