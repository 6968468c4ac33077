"""QR codes (segno) for institutions' public codes, and the receipt as a picture (Pillow)."""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path

import segno
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from .crypto import format_receipt_code

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


def public_base(request=None) -> str:
    """The public form's site: COMPLAINTS_PUBLIC_BASE_URL, else the request's (scheme and host), else
    "" (relative URLs)."""
    base = settings.COMPLAINTS_PUBLIC_BASE_URL
    if base:
        return base
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return ""


def public_url_on(base: str, public_code: str) -> str:
    return f"{base}{reverse('complaints:public-form', args=[public_code])}"


_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+\Z")  # what new_public_code gives: reverse() quotes none of it


def public_urls_on(base: str, public_codes) -> list[str]:
    """`public_url_on` of each code, the URL reversed once (a province's 5,000 reversals took a sixth
    of a second); a code with other characters is reversed on its own."""
    marker = "publiccodemarker"
    head, tail = reverse("complaints:public-form", args=[marker]).split(marker)
    return [f"{base}{head}{code}{tail}" if _URL_SAFE.match(code) else public_url_on(base, code)
            for code in public_codes]


def public_url(public_code: str, request=None) -> str:
    return public_url_on(public_base(request), public_code)


def qr_svg(url: str, *, scale: int = 4) -> str:
    """Inline SVG markup (no XML declaration), for pages and posters."""
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="svg", scale=scale, border=2, xmldecl=False,
                                                 svgns=True, title=_("清廉金融 一码举报"), dark="#000")
    return out.getvalue().decode("utf-8")


def qr_png(url: str, *, scale: int = 10) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=2)
    return out.getvalue()


@lru_cache(maxsize=8)
def _font(size: int):
    configured = getattr(settings, "COMPLAINTS_CJK_FONT", "")
    for path in (configured, *_FONT_CANDIDATES):
        if path and Path(path).exists():
            try:
                return ImageFont.truetype(path, size), True
            except OSError:
                continue
    return ImageFont.load_default(size=size), False


def receipt_png(code: str, institution_name: str, received: str) -> bytes:
    """The receipt as a small PNG the submitter can save (Chinese text when a CJK font is installed)."""
    width, height = 720, 400
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    title, cjk = _font(34)
    body = _font(24)[0]
    big = _font(44)[0]
    draw.rectangle([0, 0, width, 70], fill=60)
    if cjk:
        draw.text((28, 14), _("清廉金融 一码举报 · 回执"), font=title, fill=255)
        draw.text((28, 96), _("机构：{institution_name}").format(
            institution_name=institution_name)[:30], font=body, fill=0)
        draw.text((28, 136), _("提交时间：{received}").format(received=received), font=body, fill=0)
        draw.text((28, 186), _("回执码："), font=body, fill=0)
        draw.text((28, 320), _("请妥善保存，凭回执码查询办理进度和答复。"), font=body, fill=80)
    else:
        draw.text((28, 14), "Receipt", font=title, fill=255)
        draw.text((28, 136), received, font=body, fill=0)
    draw.text((28, 230), format_receipt_code(code), font=big, fill=0)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
