"""Private file storage: folders outside MEDIA_ROOT (which DEBUG serves), whose files are only ever
served by permission-checked views.

Each app keeps one instance and passes a callable returning it to its FileFields, so migrations
refer to the app's callable and never to this class.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.functional import cached_property


class PrivateStorage(FileSystemStorage):
    """Files in the folder named by the setting `setting` (default: BASE_DIR/private_media/`default`).

    The folder is read from settings on every access, so tests and operators can move it.
    """

    def __init__(self, setting: str, default: str) -> None:
        super().__init__()
        self.setting = setting
        self.default = default

    @property
    def base_location(self):  # type: ignore[override]
        fallback = Path(settings.BASE_DIR) / "private_media" / self.default
        return str(getattr(settings, self.setting, None) or fallback)

    @property
    def location(self):  # type: ignore[override]
        return str(Path(self.base_location).resolve())

    @cached_property
    def base_url(self):  # never served directly
        return None
