"""The public, no-login reads (public warnings pages, feed and API, blacklist API) are rate-limited per
visitor, told apart the same way as every public limit (REMOTE_ADDR, or the proxy's header)."""

import pytest
from django.core.cache import cache
from django.test import Client

pytestmark = pytest.mark.django_db

PATHS = ["/api/v1/public/warnings/", "/api/v1/public/blacklist/", "/public/warnings/",
         "/public/warnings/feed.atom"]


@pytest.fixture
def three_per_minute(settings):
    settings.PUBLIC_READ_RATE = "3/m"
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", PATHS)
def test_public_reads_are_limited_per_address(three_per_minute, path):
    client = Client(REMOTE_ADDR="203.0.113.7")
    assert [client.get(path).status_code for _ in range(3)] == [200, 200, 200]
    resp = client.get(path)
    assert resp.status_code == 429
    if path.startswith("/api/"):
        assert resp.json()["detail"] and int(resp["Retry-After"]) > 0
    else:
        assert "请稍后再试" in resp.content.decode()
    # Another address is not affected, and a forged X-Forwarded-For does not open a new allowance.
    assert Client(REMOTE_ADDR="203.0.113.8").get(path).status_code == 200
    assert client.get(path, HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429


def test_behind_a_proxy_visitors_are_told_apart_by_its_header(three_per_minute, settings):
    settings.COMPLAINTS_CLIENT_IP_HEADER = "HTTP_X_REAL_IP"
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    path = "/api/v1/public/warnings/"
    assert [proxy.get(path, HTTP_X_REAL_IP="198.51.100.1").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert proxy.get(path, HTTP_X_REAL_IP="198.51.100.2").status_code == 200


def test_an_empty_rate_is_unlimited(settings):
    settings.PUBLIC_READ_RATE = ""
    cache.clear()
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert {client.get("/public/warnings/").status_code for _ in range(5)} == {200}
