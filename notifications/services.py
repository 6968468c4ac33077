"""Writes of the notification outbox: who is told what where (`notify`, `notify_phone`), and the
sender (`send_due`) with retries, quiet hours and rate limits. Every other app sends through here.

A message is written in the caller's transaction (it exists iff the change it reports committed);
after the commit a send is kicked, and beat runs `send_due` every minute."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core import locks, outbox
from core.errors import DomainError

from . import channels, rules
from .models import Channel, Message, MessageStatus, Preference

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (the letters' PDF and xlsx); other channels carry no files."""

    name: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Target:
    channel: str
    recipient: str
    label: str = ""
    secret: str = ""
    institution_id: int | None = None
    user_id: int | None = None


def enabled_channels() -> list[str]:
    """The channels this installation has switched on (NOTIFY_CHANNELS)."""
    return [c for c in getattr(settings, "NOTIFY_CHANNELS", ["email"]) if c in rules.CHANNELS]


def _wanted(preference: Preference | None, kind: str) -> list[str]:
    if preference is not None and kind in (preference.kinds_off or []):
        return []
    chosen = (preference.channels if preference is not None and preference.channels
              else getattr(settings, "NOTIFY_DEFAULT_CHANNELS", ["email"]))
    on = enabled_channels()
    return [c for c in chosen if c in on]


def institution_targets(institution, kind: str) -> list[Target]:
    """An institution's robots, duty phone and mailbox, as its preference says."""
    preference = Preference.objects.filter(institution=institution).first()
    if preference is None:
        return []
    found = []
    for channel in _wanted(preference, kind):
        if channel == "dingtalk" and preference.dingtalk_webhook:
            found.append(Target("dingtalk", preference.dingtalk_webhook, institution.name,
                                preference.dingtalk_secret, institution_id=institution.pk))
        elif channel == "wecom" and preference.wecom_webhook:
            found.append(Target("wecom", preference.wecom_webhook, institution.name, institution_id=institution.pk))
        elif channel == "sms" and preference.phone:
            found.append(Target("sms", preference.phone, institution.name, institution_id=institution.pk))
        elif channel == "email" and preference.email:
            found.append(Target("email", preference.email, institution.name, institution_id=institution.pk))
    return found


def user_targets(user, kind: str, only: Iterable[str] | None = None) -> list[Target]:
    """A user's phone and mail as their preference says (e-mail alone, to their address, without one);
    `only` keeps just those channels (a caller whose own mail already reaches the user: ("sms",))."""
    preference = Preference.objects.filter(user=user).first()
    found = []
    wanted = _wanted(preference, kind)
    if only is not None:
        wanted = [c for c in wanted if c in set(only)]
    for channel in wanted:
        if channel == "sms" and preference is not None and preference.phone:
            found.append(Target("sms", preference.phone, user.get_username(), user_id=user.pk))
        elif channel == "email":
            address = (preference.email if preference is not None and preference.email else user.email)
            if address:
                found.append(Target("email", address, user.get_username(), user_id=user.pk))
    return found


def _installation_center_targets(on: list[str]) -> list[Target]:
    """The installation's robots (NOTIFY_DINGTALK_WEBHOOK / _SECRET, NOTIFY_WECOM_WEBHOOK): one pair
    for the whole installation, shared by every district that has none of its own."""
    found = []
    if "dingtalk" in on and getattr(settings, "NOTIFY_DINGTALK_WEBHOOK", ""):
        found.append(Target("dingtalk", settings.NOTIFY_DINGTALK_WEBHOOK, gettext("金融工作中心"),
                            getattr(settings, "NOTIFY_DINGTALK_SECRET", "")))
    if "wecom" in on and getattr(settings, "NOTIFY_WECOM_WEBHOOK", ""):
        found.append(Target("wecom", settings.NOTIFY_WECOM_WEBHOOK, gettext("金融工作中心")))
    return found


def district_targets(kind: str, district=None) -> list[Target]:
    """The finance center's own channels for `district` (a District or its pk): the district's robots,
    duty phone and mailbox (`DistrictChannels`) when it has any, else the installation's robots — which,
    in an installation of several districts, is a group every district without its own shares.
    `district` None: the installation's robots (no district known)."""
    from .models import DistrictChannels

    on = enabled_channels()
    own = None
    if district is not None:
        district_id = getattr(district, "pk", district)
        own = DistrictChannels.objects.filter(district_id=district_id).select_related("district").first()
    if own is None or not own.configured:
        return _installation_center_targets(on)
    label = gettext("{district}金融工作中心").format(district=own.district.name)
    found = []
    if "dingtalk" in on and own.dingtalk_webhook:
        found.append(Target("dingtalk", own.dingtalk_webhook, label, own.dingtalk_secret))
    if "wecom" in on and own.wecom_webhook:
        found.append(Target("wecom", own.wecom_webhook, label))
    if "sms" in on and own.phone:
        found.append(Target("sms", own.phone, label))
    if "email" in on and own.email:
        found.append(Target("email", own.email, label))
    return found


def notify(key: str, kind: str, context: dict, *, institutions: Iterable = (), users: Iterable = (),
           district=None, targets: Iterable[Target] = (), user_channels: Iterable[str] | None = None,
           attachments: Iterable[Attachment] = ()) -> int:
    """Queue `kind`'s template for every target of the institutions, users (and, with `district` — the
    District or its pk — that district's finance center: its own robots, else the installation's, see
    `district_targets`; `True`: the installation's robots); returns the messages stored (a key already
    there, for that channel and recipient, is not stored again). Call inside the transaction of the
    change it reports. `user_channels` limits the users' channels (a reminder whose mail the caller
    already sends: ("sms",), so nobody gets it twice)."""
    subject, body = rules.render(kind, context)
    found: list[Target] = list(targets)
    for institution in institutions:
        found += institution_targets(institution, kind)
    only = tuple(user_channels) if user_channels is not None else None
    for user in users:
        found += user_targets(user, kind, only)
    if district is True:
        found += district_targets(kind)
    elif district is not None and district is not False:
        found += district_targets(kind, district)
    return _store(key, kind, subject, body, found, attachments=list(attachments))


def notify_phone(key: str, kind: str, context: dict, phone: str, *, channel: str = "sms",
                 institution_id: int | None = None, ephemeral: bool = False) -> int:
    """A message to one phone (a named complainant, a served customer): SMS only; the number stays in
    the outbox, which only the administrator reads."""
    if channel != "sms" or "sms" not in enabled_channels():
        return 0
    if not rules.PHONE.match(phone or ""):
        raise DomainError(gettext("手机号格式不正确"), field="phone")
    subject, body = rules.render(kind, context)
    return _store(key, kind, subject, body, [Target("sms", phone, institution_id=institution_id)],
                  ephemeral=ephemeral)


def notify_wecom_user(key: str, kind: str, context: dict, userid: str, *, institution_id: int,
                      ephemeral: bool = False) -> int:
    """A message to one person through the institution's WeCom app (企业微信应用消息), by their WeCom
    account: the questionnaire push. The app's credentials are read from the institution's preference
    when sending; the account stays in the outbox (administrator only), erased once final if ephemeral."""
    if "wecom_app" not in enabled_channels():
        return 0
    if not rules.WECOM_USERID.match(userid or ""):
        raise DomainError(gettext("企业微信账号格式不正确"), field="userid")
    subject, body = rules.render(kind, context)
    return _store(key, kind, subject, body, [Target("wecom_app", userid, institution_id=institution_id)],
                  ephemeral=ephemeral)


def _store(key: str, kind: str, subject: str, body: str, targets: list[Target], *, ephemeral: bool = False,
           attachments: list[Attachment] | None = None) -> int:
    files = [{"name": a.name, "mimetype": a.mimetype, "content": base64.b64encode(a.content).decode()}
             for a in attachments or ()]
    seen: set[tuple[str, str]] = set()
    rows = []
    for t in targets:
        if (t.channel, t.recipient) in seen:
            continue
        seen.add((t.channel, t.recipient))
        rows.append(Message(key=key[:320], kind=kind, channel=t.channel, recipient=t.recipient,
                            recipient_label=t.label[:200], secret=t.secret, institution_id=t.institution_id,
                            user_id=t.user_id, subject=subject[:255], body=body, ephemeral=ephemeral,
                            attachments=files if t.channel == Channel.EMAIL else []))
    if not rows:
        return 0
    before = Message.objects.filter(key=key[:320]).count()
    Message.objects.bulk_create(rows, ignore_conflicts=True)
    stored = Message.objects.filter(key=key[:320]).count() - before
    if stored:
        transaction.on_commit(kick)
    return stored


def kick() -> None:
    """Ask for a send now (after the commit). Never raises: beat sends what waits."""
    from core import queue

    from . import tasks

    try:
        queue.publish_now(tasks.send_due_messages, (), {})
    except Exception as exc:  # broker down, or an eager send failed: the messages wait for beat
        logger.warning("notifications: could not queue a send (%s); messages wait for the next run", exc)


# --------------------------------------------------------------------------------------------
# Sending


def _quiet_until(now):
    try:
        quiet = rules.parse_quiet_hours(getattr(settings, "NOTIFY_QUIET_HOURS", ""))
    except ValueError:
        return None
    until = rules.quiet_until(timezone.localtime(now), quiet)
    return until


# The advisory locks' namespace of one (channel, recipient) being counted and sent (`_hold_recipient`).
_RECIPIENT_LOCK_NAMESPACE = 0x4E07


def _hold_recipient(message: Message) -> None:
    """Inside the sender's transaction (`core.locks`): the messages of one channel and recipient are
    counted against the hourly limit and sent one at a time. Without it two senders, each holding a different
    message to the same number (SKIP LOCKED), both counted the sent messages before either committed,
    and both sent: parallel senders together exceeded the limit. Held until the message is saved."""
    locks.hold(_RECIPIENT_LOCK_NAMESPACE, locks.key_of(f"{message.channel}:{message.recipient}"))


def _rate_limited_until(message: Message, now):
    limit = int(getattr(settings, "NOTIFY_RATE_LIMIT_PER_HOUR", 0) or 0)
    if limit <= 0:
        return None
    _hold_recipient(message)
    hour_ago = now - timedelta(hours=1)
    recent = list(Message.objects.filter(channel=message.channel, recipient=message.recipient,
                                         status=MessageStatus.SENT, sent_at__gt=hour_ago)
                  .order_by("sent_at").values_list("sent_at", flat=True)[:limit])
    if len(recent) < limit:
        return None
    return recent[0] + timedelta(hours=1)


def _send_mail_with_files(message: Message) -> None:
    """An e-mail with attachments, sent here (core.outbox carries text only); retried like the others."""
    from django.core.mail import EmailMessage, get_connection

    mail = EmailMessage(message.subject, message.body, settings.DEFAULT_FROM_EMAIL, [message.recipient],
                        connection=get_connection())
    for item in message.attachments:
        if "content" not in item:
            raise channels.ChannelError(gettext("附件内容已按规定清除，无法重发，请重新生成"))
        mail.attach(item["name"], base64.b64decode(item["content"]), item.get("mimetype") or None)
    try:
        mail.send()
    except Exception as exc:  # SMTP refusals, a dead server: retried with backoff
        raise channels.ChannelError(gettext("邮件发送失败：{error}").format(error=str(exc)[:300])) from None


def _deliver(message: Message) -> None:
    if message.channel == Channel.EMAIL and message.attachments:
        _send_mail_with_files(message)
    elif message.channel == Channel.EMAIL:
        outbox.enqueue(f"notifications:{message.pk}", [message.recipient], message.subject, message.body,
                       kind=f"notifications.{message.kind}"[:60])
    elif message.channel == Channel.SMS:
        channels.send_sms(message.recipient, message.body)
    elif message.channel == Channel.DINGTALK:
        channels.send_dingtalk(message.recipient, message.secret, message.body)
    elif message.channel == Channel.WECOM:
        channels.send_wecom(message.recipient, message.body)
    elif message.channel == Channel.WECOM_APP:
        app = Preference.objects.filter(institution_id=message.institution_id).first()
        if app is None or not app.has_wecom_app:
            raise channels.ChannelError(gettext("机构未配置企业微信应用（企业ID、AgentId、Secret）"))
        channels.send_wecom_app(app.wecom_corp_id, app.wecom_agent_id, app.wecom_app_secret, message.recipient,
                                message.body)
    else:  # pragma: no cover - the constraint forbids it
        raise channels.ChannelError(gettext("未知渠道 {channel}").format(channel=message.channel))


def send_due(limit: int = 200, now=None) -> int:
    """Send what is due, one message per transaction (SKIP LOCKED: concurrent senders never send one
    twice). Quiet hours and rate limits postpone a message (`deferred` says why); a failure is retried
    with a doubling delay until NOTIFY_MAX_ATTEMPTS marks it failed. Returns the messages sent."""
    sent = 0
    max_attempts = int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 5))
    first_delay = int(getattr(settings, "NOTIFY_RETRY_SECONDS", 60))
    for _ in range(limit):
        moment = now or timezone.now()
        with transaction.atomic():
            message = (Message.objects.select_for_update(skip_locked=True)
                       .filter(status=MessageStatus.PENDING, not_before__lte=moment)
                       .order_by("not_before", "id").first())
            if message is None:
                break
            if message.channel != Channel.EMAIL:
                until = _quiet_until(moment)
                reason = gettext("免打扰时段")
                if until is None:
                    until, reason = _rate_limited_until(message, moment), gettext("超过每小时发送上限")
                if until is not None:
                    message.not_before, message.deferred = until, reason
                    message.save(update_fields=["not_before", "deferred"])
                    continue
            message.attempts += 1
            try:
                _deliver(message)
            except channels.ChannelError as exc:
                message.last_error = str(exc)[:2000]
                if message.attempts >= max_attempts:
                    message.status = MessageStatus.FAILED
                    logger.error("notifications: %s message %s failed %d times: %s", message.channel, message.pk,
                                 message.attempts, exc)
                else:
                    message.not_before = moment + rules.backoff(message.attempts, first_delay)
                if message.status == MessageStatus.FAILED:
                    _final(message)
                    _forget(message)
                message.save(update_fields=["attempts", "last_error", "status", "not_before", "recipient", "body",
                                            "attachments"])
                continue
            message.status, message.sent_at, message.deferred = MessageStatus.SENT, moment, ""
            _final(message)
            _forget(message)
            message.save(update_fields=["attempts", "status", "sent_at", "deferred", "last_error", "recipient",
                                        "body", "attachments"])
            sent += 1
    return sent


_final_listeners: list[tuple[str, object]] = []


def listen(key_prefix: str, callback) -> None:
    """Call `callback(message)` when a message whose key starts with `key_prefix` is finally sent or
    finally failed (inside the sender's transaction; register in AppConfig.ready(); registering the
    same callback again is a no-op). A failing callback is logged and never undoes the delivery."""
    if (key_prefix, callback) not in _final_listeners:
        _final_listeners.append((key_prefix, callback))


def _final(message: Message) -> None:
    for prefix, callback in _final_listeners:
        if message.key.startswith(prefix):
            try:
                with transaction.atomic():
                    callback(message)
            except Exception:  # a listener's bug must not resend or lose a delivered message
                logger.exception("notifications: listener %r failed for message %s", callback, message.pk)


def _forget(message: Message) -> None:
    """An ephemeral message's number and text (a one-time link) are erased once it is final; so are an
    e-mail's attachments' contents (their names stay)."""
    if message.attachments:
        message.attachments = [{"name": a.get("name", ""), "mimetype": a.get("mimetype", "")}
                               for a in message.attachments]
    if message.ephemeral:
        message.recipient = f"{rules.mask_recipient(message.channel, message.recipient)}#{message.pk}"
        message.body = gettext("（一次性内容已按规定清除）")


def retry_now(queryset) -> int:
    """The admin's 立即重试: failed or waiting messages pending again, due now."""
    # An erased message cannot be sent again: its number is gone.
    waiting = queryset.exclude(status=MessageStatus.SENT).exclude(ephemeral=True, status=MessageStatus.FAILED)
    return waiting.update(status=MessageStatus.PENDING, not_before=timezone.now(), deferred="")


def save_preference(*, institution=None, user=None, **fields) -> Preference:
    """Create or change an institution's or a user's preference (channels checked against the list)."""
    if (institution is None) == (user is None):
        raise DomainError(gettext("须指定机构或用户之一"))
    wanted = fields.get("channels") or []
    unknown = [c for c in wanted if c not in rules.CHANNELS]
    if unknown:
        raise DomainError(gettext("未知渠道：{channels}").format(channels='、'.join(unknown)), field="channels")
    phone = fields.get("phone") or ""
    if phone and not rules.PHONE.match(phone):
        raise DomainError(gettext("手机号格式不正确"), field="phone")
    preference, _ = Preference.objects.update_or_create(institution=institution, user=user, defaults=fields)
    return preference


@transaction.atomic
def save_district_channels(district, actor, *, dingtalk_webhook: str = "", dingtalk_secret: str = "",
                           wecom_webhook: str = "", phone: str = "", email: str = ""):
    """A district's finance center sets its own robots (and duty phone, mailbox): checked first, all or
    nothing (a bad field: DomainError, nothing stored). The DingTalk secret is write-only: blank keeps
    the stored one; removing the webhook removes it. Only the district's finance center (or the
    administrator) may: anyone else gets NotFound."""
    from institutions import access

    from .models import DistrictChannels

    if not access.is_finance_center(actor, district):
        from core.errors import NotFound

        raise NotFound(gettext("未找到该区县"))
    dingtalk_webhook, wecom_webhook = dingtalk_webhook.strip(), wecom_webhook.strip()
    dingtalk_secret, phone, email = dingtalk_secret.strip(), phone.strip(), email.strip()
    for field, url in (("dingtalk_webhook", dingtalk_webhook), ("wecom_webhook", wecom_webhook)):
        problem = rules.webhook_problem(url)
        if problem:
            raise DomainError(problem, field=field)
    if len(dingtalk_secret) > 200 or any(c.isspace() for c in dingtalk_secret):
        raise DomainError(gettext("钉钉加签密钥格式不正确（不超过 200 个字符，不含空白）。"), field="dingtalk_secret")
    if phone and not rules.PHONE.match(phone):
        raise DomainError(gettext("手机号格式不正确"), field="phone")
    if email and (len(email) > 254 or not rules.EMAIL.match(email)):
        raise DomainError(gettext("邮箱格式不正确"), field="email")
    current = DistrictChannels.objects.select_for_update().filter(district=district).first()
    if not dingtalk_secret and dingtalk_webhook and current is not None:
        dingtalk_secret = current.dingtalk_secret
    if not dingtalk_webhook:
        dingtalk_secret = ""
    channels_row, _ = DistrictChannels.objects.update_or_create(district=district, defaults={
        "dingtalk_webhook": dingtalk_webhook, "dingtalk_secret": dingtalk_secret, "wecom_webhook": wecom_webhook,
        "phone": phone, "email": email, "updated_by": actor if getattr(actor, "pk", None) else None})
    return channels_row


def advance_cursor(name: str, default, read_up_to) -> tuple:
    """Lock the sweep `name`, hand its position (or `default`) to `read_up_to(position)`, which
    returns (result, new position or None); store the new position. Run inside a transaction."""
    from .models import Cursor

    cursor, _ = Cursor.objects.select_for_update().get_or_create(name=name, defaults={"position": default})
    result, position = read_up_to(cursor.position)
    if position is not None and position > cursor.position:
        cursor.position = position
        cursor.save(update_fields=["position"])
    return result



# --------------------------------------------------------------------------------------------
# Questionnaire push (清廉码): lists of people served, kept encrypted until their links are queued

PUSH_LIST_LIMIT = 1000
PHONE_COLUMN = "手机号"  # i18n-exempt: the column header the uploaded list is read by
WECOM_COLUMN = "企业微信账号"  # i18n-exempt: the column header the uploaded list is read by
PUSH_TASK = "complaints.send_survey_push"


def _list_fernet():
    from cryptography.fernet import Fernet, MultiFernet

    keys = getattr(settings, "NOTIFY_LIST_KEYS", None) or settings.COMPLAINTS_PII_KEYS
    return MultiFernet([Fernet(k.encode()) for k in keys])


def read_phone_list(data: bytes, filename: str) -> list[str]:
    """The phones of an uploaded CSV/XLSX (column 手机号), all or nothing: a bad row is refused with its
    line number; duplicates count once."""
    from core.tabular import TabularError, load_dataset

    try:
        dataset = load_dataset(data, filename, required=[PHONE_COLUMN])
    except TabularError as exc:
        raise DomainError(str(exc), field="file") from None
    phones: list[str] = []
    problems: list[str] = []
    for line, row in enumerate(dataset.dict, start=2):
        phone = str(row.get(PHONE_COLUMN) or "").strip().replace(" ", "").replace("-", "")
        if not rules.PHONE.match(phone):
            problems.append(gettext("第 {line} 行：手机号「{phone}」格式不正确").format(line=line, phone=phone[:20]))
        elif phone not in phones:
            phones.append(phone)
    if problems:
        raise DomainError("；".join(problems[:20]) + ("……" if len(problems) > 20 else ""), field="file")
    if not phones:
        raise DomainError(gettext("名单中没有手机号"), field="file")
    if len(phones) > PUSH_LIST_LIMIT:
        raise DomainError(gettext("一次最多推送 {limit} 人（名单有 {n} 人）").format(
            limit=PUSH_LIST_LIMIT, n=len(phones)), field="file")
    return phones


def read_wecom_list(data: bytes, filename: str) -> list[str]:
    """The WeCom accounts of an uploaded CSV/XLSX (column 企业微信账号), all or nothing like the phones."""
    from core.tabular import TabularError, load_dataset

    try:
        dataset = load_dataset(data, filename, required=[WECOM_COLUMN])
    except TabularError as exc:
        raise DomainError(str(exc), field="file") from None
    accounts: list[str] = []
    problems: list[str] = []
    for line, row in enumerate(dataset.dict, start=2):
        account = str(row.get(WECOM_COLUMN) or "").strip()
        if not rules.WECOM_USERID.match(account):
            problems.append(gettext("第 {line} 行：企业微信账号「{account}」格式不正确").format(
                line=line, account=account[:20]))
        elif account not in accounts:
            accounts.append(account)
    if problems:
        raise DomainError("；".join(problems[:20]) + ("……" if len(problems) > 20 else ""), field="file")
    if not accounts:
        raise DomainError(gettext("名单中没有企业微信账号"), field="file")
    if len(accounts) > PUSH_LIST_LIMIT:
        raise DomainError(gettext("一次最多推送 {limit} 人（名单有 {n} 人）").format(
            limit=PUSH_LIST_LIMIT, n=len(accounts)), field="file")
    return accounts


def push_channels(institution) -> list[str]:
    """The channels an institution's questionnaire list may go by: SMS when switched on; WeCom when
    switched on and the institution configured its WeCom app."""
    on = enabled_channels()
    found = ["sms"] if "sms" in on else []
    if "wecom_app" in on:
        preference = Preference.objects.filter(institution=institution).first()
        if preference is not None and preference.has_wecom_app:
            found.append("wecom_app")
    return found


def may_push_for(user, institution) -> bool:
    from institutions import access

    return institution.pk in access.member_institution_ids(user, "institution_filer", "institution_head")


@transaction.atomic
def store_push_list(institution, data: bytes, filename: str, actor, *, label: str = "", year: int | None = None,
                    channel: str = "sms"):
    """An institution's uploaded list, stored encrypted and queued for sending (its filers and heads):
    phones (column 手机号) for SMS, or WeCom accounts (column 企业微信账号) for the institution's WeCom app."""
    from core import queue

    from .models import PushList

    if not may_push_for(actor, institution):
        from core.errors import NotFound

        raise NotFound(gettext("未找到该机构"))
    if channel == "wecom_app":
        if "wecom_app" not in push_channels(institution):
            raise DomainError(gettext("本系统未开通企业微信应用消息，或本机构未配置企业微信应用，无法推送问卷"),
                              field="channel")
        phones = read_wecom_list(data, filename)
    elif channel == "sms":
        if "sms" not in enabled_channels():
            raise DomainError(gettext("本系统未开通短信渠道，无法推送问卷"), field="file")
        phones = read_phone_list(data, filename)
    else:
        raise DomainError(gettext("请选择推送渠道：短信或企业微信"), field="channel")
    push = PushList.objects.create(
        institution=institution, label=label.strip()[:100], count=len(phones), created_by=actor, channel=channel,
        year=year or timezone.localdate().year, phones_enc=_list_fernet().encrypt("\n".join(phones).encode()).decode())
    from celery import current_app

    # The sender lives with the questionnaires (complaints/survey_push.py, in CELERY_IMPORTS): reached by
    # its name through Celery's registry, as this base app imports no feature app.
    if PUSH_TASK not in current_app.tasks:
        current_app.loader.import_default_modules()
    task = current_app.tasks.get(PUSH_TASK)
    if task is not None:
        queue.enqueue_after_commit(task, push.pk)
    return push


def take_push_list(pk: int):
    """Lock a waiting list and hand over its phones, erasing them from the list (inside the caller's
    transaction, which queues the messages): (list, phones), or (None, []) when not waiting."""
    from .models import PushList, PushListStatus

    push = PushList.objects.select_for_update().select_related("institution").filter(pk=pk).first()
    if push is None or push.status != PushListStatus.WAITING or not push.phones_enc:
        return None, []
    phones = _list_fernet().decrypt(push.phones_enc.encode()).decode().split("\n")
    now = timezone.now()
    push.phones_enc, push.purged_at, push.status, push.sent_at = "", now, PushListStatus.SENT, now
    push.save(update_fields=["phones_enc", "purged_at", "status", "sent_at"])
    return push, phones


def fail_push_list(pk: int, error: str) -> None:
    from .models import PushList, PushListStatus

    PushList.objects.filter(pk=pk, status=PushListStatus.WAITING).update(status=PushListStatus.FAILED,
                                                                         error=error[:2000])
