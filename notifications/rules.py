"""Pure rules of the notification channels: signatures, quiet hours, backoff, templates, masking of
phone numbers. No Django models, no network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import urllib.parse
from datetime import datetime, time, timedelta
from string import Formatter

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

CHANNELS: tuple[str, ...] = ("email", "sms", "dingtalk", "wecom", "wecom_app")
# The channels a preference chooses for reminders and notices; wecom_app reaches one named person (a
# list's WeCom account) and is chosen per questionnaire list, not here.
PREFERENCE_CHANNELS: tuple[str, ...] = ("email", "sms", "dingtalk", "wecom")
PHONE = re.compile(r"^1[3-9]\d{9}$")
# A WeCom account (userid, 账号): 1–64 letters, digits and _ . @ -.
WECOM_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")

# Chinese templates per message kind: (subject, body). Fields in braces come from the caller's context;
# none of them may carry a person's name (warnings: never the names in the warning).
TEMPLATES: dict[str, tuple[str, str]] = {
    "warnings_feed.arrived": (
        gettext_lazy("新的警示信息"),
        gettext_lazy("【清廉金融】{institution}收到 1 条新的警示信息，请登录清廉金融门户查阅并确认知悉。")),
    "reminder.sheets": (
        gettext_lazy("评分表提醒"),
        gettext_lazy("【清廉金融】{institution}{year} 年度{what}尚未提交，截止日期 {due}，请及时登录门户填报。")),
    "reminder.rectification": (
        gettext_lazy("整改提醒"),
        gettext_lazy("【清廉金融】{institution}有 {count} 项整改事项将于 {due} 到期，请及时登录门户报送整改情况。")),
    "reminder.rectification_overdue": (
        gettext_lazy("整改逾期提醒"),
        gettext_lazy("【清廉金融】{institution}有 {count} 项整改事项已于 {due} 到期，尚未报送整改情况，"
                     "请尽快登录门户报送。")),
    "reminder.rectification_escalation": (
        gettext_lazy("整改逾期上报"),
        gettext_lazy("【清廉金融】{institution}有 {count} 项整改事项逾期未整改（期限 {due}），"
                     "已上报机构负责人和区金融工作中心，请登录门户督办。")),
    "reminder.alerts": (
        gettext_lazy("风险预警提醒"),
        gettext_lazy("【清廉金融】{institution}有 {count} 条风险预警待处理，请登录门户处理。")),
    "reminder.alerts_due": (
        gettext_lazy("风险预警核查提醒"),
        gettext_lazy("【清廉金融】{institution}有 {count} 条风险预警的核查期限为 {due}，请及时登录门户核查处理。")),
    "reminder.alerts_overdue": (
        gettext_lazy("风险预警逾期提醒"),
        gettext_lazy("【清廉金融】{institution}有 {count} 条风险预警已超过核查期限，请尽快登录门户处理。")),
    "reminder.complaints_due": (
        gettext_lazy("投诉办理提醒"),
        gettext_lazy("【清廉金融】有 {count} 件投诉举报将于 {due} 前到期，请及时办理。")),
    "reminder.complaints_overdue": (
        gettext_lazy("投诉办理逾期提醒"),
        gettext_lazy("【清廉金融】有 {count} 件投诉举报已超过办理期限（最早 {due}），请尽快办理。")),
    "complaints.accepted": (
        gettext_lazy("投诉受理告知"),
        gettext_lazy("【清廉金融】您于 {received} 提交的反映已于 {accepted} 受理，将在 {due} 前告知办理结果。"
                     "可凭回执码在门户查询进度。")),
    "complaints.rejected": (
        gettext_lazy("投诉处理告知"),
        gettext_lazy("【清廉金融】您于 {received} 提交的反映经审查不予受理，原因请凭回执码在门户查看。")),
    "complaints.result": (
        gettext_lazy("投诉办理结果告知"),
        gettext_lazy("【清廉金融】您于 {received} 提交的反映已办结，请凭回执码在门户查看答复。")),
    "questionnaire.link": (
        gettext_lazy("满意度问卷"),
        gettext_lazy("【清廉金融】感谢您在{institution}办理业务，请花一分钟评价：{link}（链接仅可使用一次）")),
    "scoring.letter_mail": (
        gettext_lazy("结果运用函 {number}"),
        gettext_lazy("{recipient}：\n\n{district} {year} 年度清廉金融机构积分评价结果已发布，结果运用函（{number}，"
                     "共 {count} 家机构）见附件：PDF 正式函件和 Excel 明细。也可登录清廉金融门户在年度页面下载。\n")),
    "scoring.letters": (
        gettext_lazy("结果运用函"),
        gettext_lazy("【清廉金融】{district} {year} 年度清廉积分结果已发布，{count} 份结果运用函已生成，"
                     "请登录门户下载。")),
}


class TemplateError(ValueError):
    pass


def render(kind: str, context: dict) -> tuple[str, str]:
    """(subject, body) of a kind's template with the context; a missing field is an error, not a blank."""
    try:
        subject, body = (str(text) for text in TEMPLATES[kind])
    except KeyError:
        raise TemplateError(f"unknown message kind {kind!r}") from None
    fields = {name for _, name, _, _ in Formatter().parse(subject + body) if name}
    missing = fields - set(context)
    if missing:
        raise TemplateError(f"{kind}: missing {sorted(missing)}")
    values = {k: str(v) for k, v in context.items()}
    return subject.format(**values), body.format(**values)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot 加签: base64(HmacSHA256(key=secret, "timestamp\\nsecret")), URL-encoded."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, digestmod=hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(webhook: str, secret: str, timestamp_ms: int) -> str:
    if not secret:
        return webhook
    joiner = "&" if "?" in webhook else "?"
    return f"{webhook}{joiner}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """"22:00-07:30" → (22:00, 07:30); "" → None. Raises ValueError on anything else."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", text)
    if not match:
        raise ValueError(f"quiet hours must read HH:MM-HH:MM, got {text!r}")
    h1, m1, h2, m2 = map(int, match.groups())
    return time(h1, m1), time(h2, m2)


def quiet_until(local_now: datetime, quiet: tuple[time, time] | None) -> datetime | None:
    """When the quiet period around `local_now` ends (a local datetime), or None when not quiet now.
    A period may run over midnight (22:00-07:00)."""
    if quiet is None:
        return None
    start, end = quiet
    if start == end:
        return None
    now_t = local_now.timetz().replace(tzinfo=None)
    day = local_now.replace(second=0, microsecond=0)
    if start < end:
        if start <= now_t < end:
            return day.replace(hour=end.hour, minute=end.minute)
        return None
    if now_t >= start:
        return (day + timedelta(days=1)).replace(hour=end.hour, minute=end.minute)
    if now_t < end:
        return day.replace(hour=end.hour, minute=end.minute)
    return None


def backoff(attempts: int, first_seconds: int) -> timedelta:
    """1, 2, 4, 8 … times the first delay, at most a day."""
    return min(timedelta(seconds=first_seconds * (2 ** max(attempts - 1, 0))), timedelta(days=1))


def mask_recipient(channel: str, recipient: str) -> str:
    """What pages show of a recipient: 138****5678, a robot's host only, an e-mail's domain."""
    if channel == "sms" and len(recipient) >= 7:
        return recipient[:3] + "****" + recipient[-4:]
    if channel in ("dingtalk", "wecom"):
        return urllib.parse.urlsplit(recipient).netloc or _("机器人")
    if channel == "wecom_app" and recipient:
        return recipient[:1] + "***"
    if channel == "email" and "@" in recipient:
        name, domain = recipient.split("@", 1)
        return name[:1] + "***@" + domain
    return "***"


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def webhook_problem(url: str) -> str | None:
    """Why a robot's webhook address cannot be used (None: usable). An https:// address with a host;
    plain http only to this machine (a local gateway such as `manage.py fake_gateway`)."""
    if not url:
        return None
    if len(url) > 500:
        return _("机器人地址过长（不超过 500 个字符）。")
    if any(c.isspace() or ord(c) < 32 for c in url):
        return _("机器人地址不能包含空白或控制字符。")
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return _("机器人地址格式不正确。")
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return None
    if parts.scheme != "https":
        return _("机器人地址须以 https:// 开头。")
    if not host or "." not in host:
        return _("机器人地址格式不正确。")
    return None
