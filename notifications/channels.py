"""The gateways: an SMS HTTP gateway, DingTalk (浙政钉) and WeCom group robots. One function per
channel that sends one text or raises ChannelError with a reason people can read. Plain HTTP with
urllib (JSON in, JSON out) and a short timeout; the outbox (services.send_due) retries."""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from . import rules


class ChannelError(Exception):
    """A delivery that did not happen; str() is the reason stored on the message."""


def _exchange(url: str, data: bytes | None = None, headers: dict | None = None) -> dict:
    """One request to a gateway (POST when there is a body, GET otherwise); its JSON answer."""
    if not url.startswith(("https://", "http://")):
        raise ChannelError(_("网关地址须以 https:// 或 http:// 开头"))
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",  # noqa: S310
                                     headers=headers or {})
    timeout = float(getattr(settings, "NOTIFY_HTTP_TIMEOUT", 5))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise ChannelError(_("网关返回 HTTP {code}").format(code=exc.code)) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise ChannelError(_("无法连接网关：{reason}").format(reason=getattr(exc, "reason", exc))) from None
    try:
        return json.loads(raw.decode() or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ChannelError(_("网关应答不是 JSON")) from None


def _post_json(url: str, payload: dict, headers: dict | None = None) -> dict:
    return _exchange(url, json.dumps(payload, ensure_ascii=False).encode(),
                     {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


def _robot_answer(answer: dict) -> None:
    # Both robots answer {"errcode": 0, "errmsg": "ok"}; anything else is a refusal (bad sign, rate limit…).
    if answer.get("errcode", 0) != 0:
        raise ChannelError(_("机器人拒收：{code} {message}").format(
            code=answer.get("errcode"), message=str(answer.get("errmsg", ""))[:200]))


def send_sms(phone: str, text: str) -> None:
    """POST {"phone", "text", "sign"} to NOTIFY_SMS_URL with `Authorization: Bearer NOTIFY_SMS_TOKEN`;
    the gateway answers {"code": 0} (or {"code": "OK"}) when it took the message."""
    url = getattr(settings, "NOTIFY_SMS_URL", "")
    if not url:
        raise ChannelError(_("未配置短信网关（NOTIFY_SMS_URL）"))
    headers = {"Authorization": f"Bearer {settings.NOTIFY_SMS_TOKEN}"} if getattr(settings, "NOTIFY_SMS_TOKEN", "") \
        else {}
    answer = _post_json(url, {"phone": phone, "text": text, "sign": getattr(settings, "NOTIFY_SMS_SIGN", "")},
                        headers)
    if answer.get("code") not in (0, "0", "OK", "ok"):
        raise ChannelError(_("短信网关拒收：{code} {message}").format(
            code=answer.get("code"), message=str(answer.get("message", ""))[:200]))


def send_dingtalk(webhook: str, secret: str, text: str, now_ms: int | None = None) -> None:
    """A DingTalk group robot: text message; with 加签, `timestamp` and `sign` in the query."""
    stamp = now_ms if now_ms is not None else int(time.time() * 1000)
    _robot_answer(_post_json(rules.dingtalk_url(webhook, secret, stamp),
                             {"msgtype": "text", "text": {"content": text}}))


def send_wecom(webhook: str, text: str) -> None:
    """A WeCom group robot (the webhook's `key` authenticates): text message."""
    _robot_answer(_post_json(webhook, {"msgtype": "text", "text": {"content": text}}))


# WeCom self-built app (自建应用) messages to one person: GET /cgi-bin/gettoken?corpid&corpsecret gives an
# access_token valid `expires_in` seconds (kept in the cache until shortly before), then POST
# /cgi-bin/message/send?access_token=… {"touser", "msgtype": "text", "agentid", "text"}.
_TOKEN_ERRORS = {40014, 42001, 40082}  # invalid / expired access_token: fetch a new one on the retry


def _get_json(url: str) -> dict:
    return _exchange(url)


def _wecom_api() -> str:
    return getattr(settings, "NOTIFY_WECOM_API", "https://qyapi.weixin.qq.com").rstrip("/")


def _wecom_token_key(corp_id: str, agent_id: str) -> str:
    digest = hashlib.sha256(f"{corp_id}:{agent_id}".encode()).hexdigest()[:24]
    return f"notifications:wecom-token:{digest}"


def wecom_access_token(corp_id: str, agent_id: str, secret: str) -> str:
    key = _wecom_token_key(corp_id, agent_id)
    token = cache.get(key)
    if token:
        return token
    query = urllib.parse.urlencode({"corpid": corp_id, "corpsecret": secret})
    answer = _get_json(f"{_wecom_api()}/cgi-bin/gettoken?{query}")
    if answer.get("errcode", 0) != 0 or not answer.get("access_token"):
        raise ChannelError(_("企业微信拒绝发放令牌：{code} {message}").format(
            code=answer.get("errcode"), message=str(answer.get("errmsg", ""))[:200]))
    lifetime = int(answer.get("expires_in") or 7200)
    cache.set(key, answer["access_token"], max(lifetime - 300, 60))
    return answer["access_token"]


def send_wecom_app(corp_id: str, agent_id: str, secret: str, userid: str, text: str) -> None:
    """A text from the institution's WeCom app to one person (their WeCom account)."""
    if not (corp_id and agent_id and secret):
        raise ChannelError(_("机构未配置企业微信应用（企业ID、AgentId、Secret）"))
    token = wecom_access_token(corp_id, agent_id, secret)
    payload = {"touser": userid, "msgtype": "text", "agentid": int(agent_id) if agent_id.isdigit() else agent_id,
               "text": {"content": text}, "safe": 0}
    answer = _post_json(f"{_wecom_api()}/cgi-bin/message/send?{urllib.parse.urlencode({'access_token': token})}",
                        payload)
    code = answer.get("errcode", 0)
    if code in _TOKEN_ERRORS:
        cache.delete(_wecom_token_key(corp_id, agent_id))
    if code != 0:
        raise ChannelError(_("企业微信拒收：{code} {message}").format(
            code=code, message=str(answer.get("errmsg", ""))[:200]))
    if answer.get("invaliduser"):
        raise ChannelError(_("企业微信账号不存在或不在应用可见范围内"))
