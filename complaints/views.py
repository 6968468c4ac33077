"""Public pages (no login): the QR form, the receipt, tracking, QR images and questionnaires."""

from __future__ import annotations

import base64
import json
import secrets

from cryptography.fernet import InvalidToken
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from core.ratelimits import too_many_requests

from . import qr, rules, selectors, services, throttle
from .crypto import decrypt_bytes, encrypt_bytes, format_receipt_code, normalize_receipt_code
from .images import MAX_REQUEST_BYTES
from .intake import IntakeErrors, build_submission
from .models import Complaint, Question

RECEIPT_IMAGE_TTL = 30 * 60  # the link to the receipt picture works for half an hour

KIND_HELP = {
    "rating": gettext_lazy("对服务进行评分"),
    "suggestion": gettext_lazy("对服务、制度等提出意见建议"),
    "complaint": gettext_lazy("对服务质量、收费等问题投诉"),
    "report": gettext_lazy("举报吃拿卡要、索贿受贿、违规收费等违纪违法行为"),
}


def _too_many(request: HttpRequest) -> HttpResponse:
    return too_many_requests(request, "complaints/public/base.html")


def _too_large(request: HttpRequest) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > MAX_REQUEST_BYTES
    except ValueError:
        return True


def _not_found(request: HttpRequest, message: str = "") -> HttpResponse:
    return render(request, "complaints/public/not_found.html", {"message": message}, status=404)


def _lookup(request: HttpRequest, public_code: str):
    """(institution, None) or (None, a response: the 'replaced', 'inactive' or 'unknown' page)."""
    institution, retired = selectors.institution_for_code(public_code)
    if institution is None and retired is not None:
        current = retired.institution
        return None, render(request, "complaints/public/replaced.html", {"institution": current}, status=410)
    if institution is None:
        return None, _not_found(request, _("未找到该二维码对应的机构，请核对二维码是否完整。"))
    if not institution.is_active:
        return None, render(request, "complaints/public/replaced.html",
                            {"institution": institution, "inactive": True}, status=410)
    return institution, None


def _form_context(institution, data=None, errors=None) -> dict:
    data = data or {}
    return {
        "institution": institution,
        "kinds": [(value, label, KIND_HELP[value]) for value, label in Complaint.Kind.choices],
        "rating_rows": [(f"rating_{k}", rules.RATING_LABELS[k]) for k in rules.RATING_KEYS],
        "scores": ["1", "2", "3", "4", "5"],
        "data": data,
        "errors": errors or {},
        "token": data.get("token") or secrets.token_urlsafe(16),
    }


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def public_form(request: HttpRequest, public_code: str) -> HttpResponse:
    institution, refusal = _lookup(request, public_code)
    if refusal is not None:
        return refusal
    if request.method == "GET":
        return render(request, "complaints/public/form.html", _form_context(institution))

    if throttle.submission_limited(request, public_code):
        return _too_many(request)
    if _too_large(request):
        return render(request, "complaints/public/form.html",
                      _form_context(institution, errors={"images": [_("提交内容过大：最多3张图片，每张不超过5MB。")]}),
                      status=413)
    data = request.POST
    if data.get("website"):  # the honeypot: people never see this field, robots fill it in
        return render(request, "complaints/public/form.html",
                      _form_context(institution, errors={"__all__": [_("提交未通过校验，请稍后重试。")]}), status=400)
    files = request.FILES.getlist("images")
    try:
        submission = build_submission(data, files, institution, channel=Complaint.Channel.FORM,
                                      require_consent=True, submission_token=data.get("token", "")[:64])
        receipt = services.submit(submission)
    except IntakeErrors as exc:
        return render(request, "complaints/public/form.html",
                      _form_context(institution, data.dict(), exc.errors), status=400)
    except services.DuplicateSubmission:
        return render(request, "complaints/public/duplicate.html", {"institution": institution}, status=409)
    return _receipt_page(request, receipt)


def _receipt_page(request: HttpRequest, receipt: services.Receipt, *, extra: dict | None = None) -> HttpResponse:
    case = receipt.complaint
    received = timezone.localtime(case.received_at).strftime("%Y-%m-%d %H:%M")
    payload = json.dumps({"c": receipt.receipt_code, "i": case.institution.name, "r": received},
                         ensure_ascii=False).encode()
    image_token = encrypt_bytes(payload).decode()
    code = format_receipt_code(receipt.receipt_code)
    # The receipt picture inline in the page (a data: URL, never stored): WeChat's browser blocks
    # downloads, but a long press on an image saves it.
    picture = base64.b64encode(qr.receipt_png(receipt.receipt_code, case.institution.name, received)).decode()
    response = render(request, "complaints/public/receipt.html", {
        "case": case, "institution": case.institution, "code": code,
        "received": received, "image_token": image_token, "receipt_image": f"data:image/png;base64,{picture}",
        **(extra or {}),
    })
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@csrf_protect
@require_http_methods(["POST"])
def receipt_image(request: HttpRequest) -> HttpResponse:
    """The receipt picture. The page posts the code back encrypted (it is never stored, and a POST
    keeps it out of URLs and logs); the token expires after half an hour."""
    token = request.POST.get("t", "")
    try:
        payload = json.loads(decrypt_bytes(token.encode(), ttl=RECEIPT_IMAGE_TTL))
    except (InvalidToken, ValueError, TypeError):
        raise Http404(_("回执图片链接已失效。"))
    png = qr.receipt_png(payload["c"], payload["i"], payload["r"])
    response = HttpResponse(png, content_type="image/png")
    # Inline: shown in the browser (WeChat's included), where a long press saves it.
    response["Content-Disposition"] = 'inline; filename="receipt.png"'
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def track(request: HttpRequest) -> HttpResponse:
    """Tracking by receipt code (POSTed, so the code stays out of URLs and logs)."""
    if request.method == "GET":
        return render(request, "complaints/public/track.html", {})
    if throttle.tracking_limited(request):
        return _too_many(request)
    raw = request.POST.get("code", "")
    case = selectors.find_by_receipt(raw)
    if case is None:
        return render(request, "complaints/public/track.html",
                      {"code": raw[:40], "error": _("未找到该回执码对应的记录，请核对后重试。")}, status=404)
    view = selectors.public_view(case)
    return render(request, "complaints/public/track.html",
                  {"view": view, "code": format_receipt_code(normalize_receipt_code(raw))})


@require_GET
def qr_image(request: HttpRequest, public_code: str, fmt: str) -> HttpResponse:
    institution, refusal = _lookup(request, public_code)
    if refusal is not None or fmt not in ("svg", "png"):
        raise Http404
    url = qr.public_url(institution.public_code, request)
    if fmt == "svg":
        response = HttpResponse(qr.qr_svg(url, scale=8), content_type="image/svg+xml")
    else:
        response = HttpResponse(qr.qr_png(url), content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="qr-{institution.code}.{fmt}"'
    return response


# --- questionnaires -------------------------------------------------------------------------


def _survey_answers(questions: list[Question], data) -> tuple[dict[int, str], dict[str, str]]:
    answers: dict[int, str] = {}
    errors: dict[str, str] = {}
    for q in questions:
        value = (data.get(f"q{q.pk}") or "").strip()
        if q.kind == Question.Kind.RATING:
            if value and value not in ("1", "2", "3", "4", "5"):
                errors[f"q{q.pk}"] = _("请选择1至5分。")
                continue
        elif q.kind == Question.Kind.YES_NO:
            if value and value not in ("yes", "no"):
                errors[f"q{q.pk}"] = _("请选择“是”或“否”。")
                continue
        elif len(value) > 1000:
            errors[f"q{q.pk}"] = _("不超过1000字。")
            continue
        if q.required and not value:
            errors[f"q{q.pk}"] = _("此题必答。")
            continue
        if value:
            answers[q.pk] = value
    return answers, errors


def _survey(request: HttpRequest, institution, questionnaire, link=None) -> HttpResponse:
    questions = list(questionnaire.questions.all())

    def context(data=None, errors=None) -> dict:
        data, errors = data or {}, errors or {}
        items = [{"q": q, "name": f"q{q.pk}", "value": data.get(f"q{q.pk}", ""), "error": errors.get(f"q{q.pk}", "")}
                 for q in questions]
        return {"institution": institution, "questionnaire": questionnaire, "items": items,
                "scores": ["1", "2", "3", "4", "5"], "errors": errors}

    if request.method == "GET":
        return render(request, "complaints/public/survey.html", context())
    if throttle.submission_limited(request, institution.public_code):
        return _too_many(request)
    answers, errors = _survey_answers(questions, request.POST)
    if errors or request.POST.get("website"):
        return render(request, "complaints/public/survey.html",
                      context(request.POST.dict(), errors or {"__all__": _("提交未通过校验。")}), status=400)
    try:
        result = services.submit_survey(questionnaire, institution, answers, link=link)
    except services.ServiceError as exc:
        return render(request, "complaints/public/survey_done.html", {"institution": institution,
                                                                       "error": exc.message}, status=409)
    extra = {}
    if result.receipt:
        extra = {"code": format_receipt_code(result.receipt.receipt_code)}
    return render(request, "complaints/public/survey_done.html", {"institution": institution, **extra})


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def survey_by_code(request: HttpRequest, public_code: str) -> HttpResponse:
    institution, refusal = _lookup(request, public_code)
    if refusal is not None:
        return refusal
    questionnaire = selectors.active_questionnaire()
    if questionnaire is None:
        return _not_found(request, _("本年度满意度问卷尚未发布。"))
    return _survey(request, institution, questionnaire)


@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def survey_link(request: HttpRequest, token: str) -> HttpResponse:
    link = services.find_survey_link(token)
    if link is None:
        return _not_found(request, _("问卷链接无效。"))
    institution = link.batch.institution
    if link.used_at is not None:
        return render(request, "complaints/public/survey_done.html",
                      {"institution": institution, "error": _("此问卷链接已使用过，感谢您的参与。")}, status=410)
    return _survey(request, institution, link.batch.questionnaire, link=link)

