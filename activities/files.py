"""Materials and attachments: the type is decided by the file's content (PDF, JPEG/PNG/WebP, or an
Office Open XML document), never by its name."""

from __future__ import annotations

import hashlib
import io
import zipfile

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_BYTES = 10 * 1024 * 1024
ALLOWED = gettext_lazy("PDF、JPEG/PNG/WebP 图片或 Word/Excel/PowerPoint（.docx/.xlsx/.pptx）文件")
_OFFICE = {"word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


class FileRejected(ValueError):
    pass


def sniff(data: bytes, name: str = "") -> str:
    """The MIME type of an allowed file, from its bytes; FileRejected otherwise."""
    name = name or _("文件")
    if not data:
        raise FileRejected(_("{name} 为空").format(name=name))
    if len(data) > MAX_BYTES:
        raise FileRejected(_("{name} 超过 10 MB 上限").format(name=name))
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            raise FileRejected(_("{name} 已损坏，无法识别").format(name=name)) from None
        if "[Content_Types].xml" in names:
            for prefix, mime in _OFFICE.items():
                if any(n.startswith(prefix) for n in names):
                    return mime
    raise FileRejected(_("{name}：不支持的文件类型，仅接受{allowed}").format(name=name, allowed=ALLOWED))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
