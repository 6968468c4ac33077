"""Evidence files: the type is decided by the file's content, never by its name or the browser's word."""

from __future__ import annotations

import zipfile

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024

_SIGNATURES = (
    (b"%PDF-", "application/pdf", "PDF"),
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
)
_OFFICE = {
    "word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
    "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint"),
}
ALLOWED_DESCRIPTION = gettext_lazy("PDF、JPEG、PNG、WebP 图片或 Word/Excel/PowerPoint（.docx/.xlsx/.pptx）文件")


class EvidenceRejected(ValueError):
    pass


def sniff(head: bytes, open_zip=None) -> str:
    """The MIME type of an allowed file from its first bytes; raises EvidenceRejected otherwise."""
    for signature, mime, _label in _SIGNATURES:
        if head.startswith(signature):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04") and open_zip is not None:
        try:
            with open_zip() as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            raise EvidenceRejected(_("文件已损坏，无法识别")) from None
        for prefix, (mime, _label) in _OFFICE.items():
            if any(n.startswith(prefix) for n in names) and "[Content_Types].xml" in names:
                return mime
    raise EvidenceRejected(_("不支持的文件类型：仅接受%(allowed)s（按文件内容识别，与扩展名无关）")
                           % {"allowed": ALLOWED_DESCRIPTION})


def check_uploaded(uploaded) -> str:
    """Validate a Django UploadedFile's size and content; returns its MIME type."""
    if uploaded.size > MAX_EVIDENCE_BYTES:
        raise EvidenceRejected(_("文件 %(name)s 为 %(size)s MB，超过 10 MB 上限")
                               % {"name": uploaded.name, "size": f"{uploaded.size / 1024 / 1024:.1f}"})
    if uploaded.size == 0:
        raise EvidenceRejected(_("文件 %(name)s 为空") % {"name": uploaded.name})
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)

    def open_zip():
        uploaded.seek(0)
        return zipfile.ZipFile(uploaded)

    try:
        return sniff(head, open_zip)
    finally:
        uploaded.seek(0)
