"""Turning what the public sent (the form or the API) into a validated Submission, or per-field messages.

One definition for both channels, so the page and the API accept and refuse exactly the same input.
Nothing here touches the database except looking up the institution by its code.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from institutions.models import Institution

from . import rules, selectors
from .images import MAX_BYTES, ImageRejected, ProcessedImage, check_count, process_image
from .models import DESCRIPTION_MAX, Complaint
from .services import Submission


@dataclass
class IntakeErrors(Exception):
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _text(value) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\x00", "").strip()


def _bool(value, default: bool | None = None) -> bool | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "anonymous", "是"):  # i18n-exempt: input values accepted
        return True
    if text in ("0", "false", "no", "off", "named", "否"):  # i18n-exempt: input values accepted
        return False
    return None


def resolve_institution(*, public_code: str = "", institution_code: str = "") -> Institution:
    """The institution a submission is about, or IntakeErrors naming the field at fault."""
    errors = IntakeErrors()
    if public_code:
        institution, retired = selectors.institution_for_code(public_code, cached=True)
        if institution is None:
            if retired is not None:
                errors.add("public_code", _("此二维码已更换，请扫描{name}的新二维码。").format(
                    name=retired.institution.name))
            else:
                errors.add("public_code", _("未找到该二维码对应的机构，请核对后再试。"))
            raise errors
    elif institution_code:
        institution = Institution.objects.filter(code=institution_code).first()
        if institution is None:
            errors.add("institution_code", _("未找到该机构编码。"))
            raise errors
    else:
        errors.add("public_code", _("请提供机构二维码（public_code）或机构编码（institution_code）。"))
        raise errors
    if not institution.is_active:
        errors.add("public_code" if public_code else "institution_code", _("{name}已停用，暂不受理。").format(
            name=institution.name))
        raise errors
    return institution


def parse_ratings(data: Mapping) -> dict:
    """Ratings as a JSON object, a JSON string (multipart) or form fields rating_attitude etc."""
    raw = data.get("ratings")
    if isinstance(raw, str) and raw.strip():
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValueError(_("评分格式不正确，应为 JSON 对象。"))
    if raw in (None, ""):
        raw = {k: data.get(f"rating_{k}") for k in rules.RATING_KEYS if data.get(f"rating_{k}") not in (None, "")}
    return rules.clean_ratings(raw)


def build_submission(data: Mapping, files: Sequence, institution: Institution, *, channel: str,
                     require_consent: bool = False, submission_token: str = "") -> Submission:
    """Validate everything (images included) and return a Submission, or raise IntakeErrors."""
    errors = IntakeErrors()
    kind = _text(data.get("kind"))
    description = _text(data.get("description"))
    staff_name = _text(data.get("staff_name"))
    if len(staff_name) > 50:
        errors.add("staff_name", _("涉及工作人员不超过50个字。"))
    try:
        ratings = parse_ratings(data)
    except ValueError as exc:
        errors.add("ratings", str(exc))
        ratings = {}
    for name, message in rules.validate_submission(kind=kind, description=description, ratings=ratings,
                                                   max_length=DESCRIPTION_MAX).items():
        errors.add(name, message)

    occurred_on = None
    raw_date = _text(data.get("occurred_on"))
    if raw_date:
        try:
            occurred_on = date.fromisoformat(raw_date)
        except ValueError:
            errors.add("occurred_on", _("日期格式应为 YYYY-MM-DD。"))
        else:
            if occurred_on > timezone.localdate():
                errors.add("occurred_on", _("发生日期不能晚于今天。"))

    contact_name = _text(data.get("contact_name"))
    contact_phone = _text(data.get("contact_phone"))
    anonymous = _bool(data.get("anonymous"), default=not (contact_name or contact_phone))
    if anonymous is None:
        errors.add("anonymous", _("请选择匿名或实名。"))
    elif anonymous:
        contact_name = contact_phone = ""
    else:
        try:
            contact_name = rules.clean_person_name(contact_name)
        except ValueError as exc:
            errors.add("contact_name", str(exc))
        try:
            contact_phone = rules.normalize_mobile(contact_phone)
        except ValueError as exc:
            errors.add("contact_phone", str(exc))
        if require_consent and not _bool(data.get("consent"), default=False):
            errors.add("consent", _("实名反映请阅读并同意个人信息处理说明。"))

    images: list[tuple[ProcessedImage, bytes]] = []
    files = [f for f in files if f is not None and getattr(f, "name", None) is not None]
    try:
        check_count(len(files))
    except ImageRejected as exc:
        errors.add("images", str(exc))
    else:
        for upload in files:
            name = getattr(upload, "name", "") or _("图片")
            if upload.size is not None and upload.size > MAX_BYTES:
                errors.add("images", _("{name} 超过5MB（{size:.1f}MB）。").format(
                    name=name, size=upload.size / 1024 / 1024))
                continue
            data_bytes = upload.read(MAX_BYTES + 1)
            try:
                images.append((process_image(data_bytes, name), data_bytes))
            except ImageRejected as exc:
                errors.add("images", str(exc))
    if errors.errors:
        raise errors
    return Submission(
        institution=institution, kind=kind, description=description, staff_name=staff_name,
        occurred_on=occurred_on, anonymous=bool(anonymous), contact_name=contact_name, contact_phone=contact_phone,
        ratings=ratings, images=images, channel=channel or Complaint.Channel.FORM,
        submission_token=submission_token,
    )
