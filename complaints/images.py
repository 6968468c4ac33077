"""Evidence images from the public: checked by content, re-encoded without EXIF/GPS.

Pure functions over bytes (Pillow only), so the form, the API and tests share them.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_IMAGES = 3
MAX_BYTES = 5 * 1024 * 1024
# A whole submission: three images at the limit plus the text fields and multipart overhead.
MAX_REQUEST_BYTES = MAX_IMAGES * MAX_BYTES + 1024 * 1024
MAX_PIXELS = 40_000_000  # a 5 MB file that decodes to more is a decompression bomb
MAX_EDGE = 4096  # working copies are scaled down to this longest edge
_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class ImageRejected(ValueError):
    """The file is not an acceptable image; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class ProcessedImage:
    working: bytes
    content_type: str
    extension: str
    width: int
    height: int
    original_sha256: str
    original_size: int


def check_count(count: int) -> None:
    if count > MAX_IMAGES:
        raise ImageRejected(_("最多上传{max_images}张图片（收到{count}张）。").format(
            max_images=MAX_IMAGES, count=count))


def process_image(data: bytes, filename: str = "") -> ProcessedImage:
    """Validate by content (JPEG, PNG or WebP, ≤ 5 MB) and re-encode without metadata."""
    name = filename or _("图片")
    if len(data) > MAX_BYTES:
        raise ImageRejected(_("{name} 超过5MB（{size:.1f}MB）。").format(name=name, size=len(data) / 1024 / 1024))
    if not data:
        raise ImageRejected(_("{name} 是空文件。").format(name=name))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            fmt = probe.format
            if fmt not in _FORMATS:
                raise ImageRejected(_("{name} 不是 JPEG、PNG 或 WebP 图片。").format(name=name))
            if probe.width * probe.height > MAX_PIXELS:
                raise ImageRejected(_("{name} 像素过多。").format(name=name))
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(_("{name} 不是有效的 JPEG、PNG 或 WebP 图片。").format(name=name))
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected(_("{name} 已损坏或不是有效图片。").format(name=name))

    # Apply the EXIF orientation to the pixels, then write a new file that carries no metadata.
    image = ImageOps.exif_transpose(image)
    if max(image.size) > MAX_EDGE:
        image.thumbnail((MAX_EDGE, MAX_EDGE))
    content_type, extension = _FORMATS[fmt]
    out = io.BytesIO()
    if fmt == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        clean = image if image.mode in ("RGB", "RGBA", "L", "LA", "P") else image.convert("RGBA")
        clean.save(out, "PNG", optimize=True)
    else:
        clean = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
        clean.save(out, "WEBP", quality=85)
    return ProcessedImage(
        working=out.getvalue(), content_type=content_type, extension=extension,
        width=image.width, height=image.height,
        original_sha256=hashlib.sha256(data).hexdigest(), original_size=len(data),
    )
