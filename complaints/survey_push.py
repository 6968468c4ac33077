"""Questionnaire push (清廉码问卷推送, issue #17): an institution's uploaded list of people it served
(notifications.PushList, encrypted) becomes one-time questionnaire links, one per person, sent by SMS
(a list of phones) or by the institution's WeCom app (a list of WeCom accounts).

The list is decrypted once, in the transaction that issues the links and queues the messages, and
erased in that same transaction; each message erases its number and link once final (ephemeral).
Only the links' hashes are kept here (SurveyLink), as for any link batch."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from notifications import services as notifications

from . import services


def _absolute(path: str) -> str:
    base = getattr(settings, "COMPLAINTS_PUBLIC_BASE_URL", "") or getattr(settings, "TRACKING_PORTAL_URL", "")
    return f"{base.rstrip('/')}{path}"


def send_push_list(pk: int) -> int:
    """Issue the list's links and queue one SMS each; returns the messages queued (0: not waiting)."""
    try:
        with transaction.atomic():
            push, phones = notifications.take_push_list(pk)
            if push is None:
                return 0
            questionnaire = services.ensure_questionnaire(push.year)
            tokens = services.issue_survey_links(push.institution, questionnaire, len(phones), push.created_by,
                                                 label=_("问卷推送 #{pk} {label}").format(
                                                     pk=push.pk, label=push.label).strip())
            queued = 0
            for number, (address, token) in enumerate(zip(phones, tokens, strict=True)):
                key = f"questionnaire:{push.pk}:{number}"
                context = {"institution": push.institution.name, "link": _absolute(services.survey_path(token))}
                if push.channel == "wecom_app":  # the institution's WeCom app, to the person's WeCom account
                    queued += notifications.notify_wecom_user(key, "questionnaire.link", context, address,
                                                              institution_id=push.institution_id, ephemeral=True)
                else:
                    queued += notifications.notify_phone(key, "questionnaire.link", context, address,
                                                         institution_id=push.institution_id, ephemeral=True)
            return queued
    except Exception as exc:
        notifications.fail_push_list(pk, str(exc))
        raise


@shared_task(name="complaints.send_survey_push", ignore_result=True)
def send_survey_push(pk: int) -> int:
    return send_push_list(pk)


@shared_task(name="complaints.send_waiting_survey_pushes", ignore_result=True)
def send_waiting_survey_pushes() -> int:
    """Beat safety net: lists whose send was never queued (a dead broker at upload)."""
    from notifications.models import PushList, PushListStatus

    return sum(send_push_list(pk) for pk in PushList.objects.filter(status=PushListStatus.WAITING)
               .values_list("pk", flat=True)[:20])
