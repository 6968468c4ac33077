from __future__ import annotations

import pytest

from .fake_gateway import FakeGateway


@pytest.fixture
def gateway():
    fake = FakeGateway().start()
    yield fake
    fake.stop()


@pytest.fixture
def channels_on(settings, gateway):
    """Every channel switched on, pointed at the fake gateway; no quiet hours, no rate limit."""
    settings.NOTIFY_CHANNELS = ["email", "sms", "dingtalk", "wecom"]
    settings.NOTIFY_DEFAULT_CHANNELS = ["email"]
    settings.NOTIFY_SMS_URL = f"{gateway.url}/sms/send"
    settings.NOTIFY_SMS_TOKEN = "sms-token-1"
    settings.NOTIFY_SMS_SIGN = "清廉金融"
    settings.NOTIFY_DINGTALK_WEBHOOK = f"{gateway.url}/robot/send?access_token=dt-center"
    settings.NOTIFY_DINGTALK_SECRET = "SEC-center-secret"
    settings.NOTIFY_WECOM_WEBHOOK = f"{gateway.url}/cgi-bin/webhook/send?key=wc-center"
    settings.NOTIFY_QUIET_HOURS = ""
    settings.NOTIFY_RATE_LIMIT_PER_HOUR = 0
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_RETRY_SECONDS = 60
    settings.NOTIFY_HTTP_TIMEOUT = 2
    return gateway
