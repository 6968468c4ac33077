"""The year page's letter downloads (结果运用函), for the district's finance center; each download logged."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from . import selectors, services
from .models import LetterDispatch
from .views import _finance_year

CONTENT_TYPES = {"pdf": "application/pdf",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@login_required
def letter_file(request, year: int, use: str, fmt: str):
    dy = _finance_year(request, year)
    if fmt not in CONTENT_TYPES:
        raise Http404(_("未知格式"))
    letter = selectors.letters_of(dy.district_id, dy.year).filter(use=use).first()
    if letter is None or not getattr(letter, fmt):
        raise Http404(_("尚无该函件"))
    services.record_letter_dispatch(letter, LetterDispatch.Channel.DOWNLOAD, request.user.get_username(),
                                    by=request.user, file_format=fmt)
    return FileResponse(getattr(letter, fmt).open("rb"), as_attachment=True, filename=f"{letter.number}.{fmt}",
                        content_type=CONTENT_TYPES[fmt])
