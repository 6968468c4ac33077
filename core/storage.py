"""Private file storage: files only ever served by permission-checked views.

Each app keeps one instance and passes a callable returning it to its FileFields, so migrations
refer to the app's callable and never to this class.

Where the files live is a setting, not code (issue 16, docs/deployment.md "Files"):
- by default, on the local disk: the folder named by the instance's setting (outside MEDIA_ROOT,
  which DEBUG serves), e.g. COMPLAINTS_EVIDENCE_ROOT;
- when settings.STORAGES has a `private` alias (PORTAL_STORAGE=s3: an S3-compatible store such as
  MinIO, OSS or COS through django-storages), every instance keeps its files there instead, under
  a prefix of its own (`complaints/`, `reports/`, ...), so several web processes on several
  machines share them. Nothing else changes for the apps: open, save, delete, exists, size.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import cached_property

REMOTE_ALIAS = "private"


def remote_configured() -> bool:
    return REMOTE_ALIAS in getattr(settings, "STORAGES", {})


class PrivateStorage(FileSystemStorage):
    """Files in the folder named by the setting `setting` (default: BASE_DIR/private_media/`default`),
    or under `<default>/` in the `private` storage alias when one is configured.

    The folder and the alias are read from settings on every access, so tests and operators can
    move them.
    """

    def __init__(self, setting: str, default: str) -> None:
        super().__init__()
        self.setting = setting
        self.default = default

    # --- local folder ---

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

    # --- remote store ---

    def _remote(self):
        return storages[REMOTE_ALIAS] if remote_configured() else None

    def _key(self, name: str) -> str:
        return f"{self.default}/{name}"

    def _unkey(self, key: str) -> str:
        prefix = f"{self.default}/"
        return key[len(prefix):] if key.startswith(prefix) else key

    def _open(self, name, mode="rb"):
        remote = self._remote()
        return remote.open(self._key(name), mode) if remote else super()._open(name, mode)

    def _save(self, name, content):
        remote = self._remote()
        return self._unkey(remote.save(self._key(name), content)) if remote else super()._save(name, content)

    def get_available_name(self, name, max_length=None):
        remote = self._remote()
        if not remote:
            return super().get_available_name(name, max_length)
        longer = max_length + len(self.default) + 1 if max_length else None
        return self._unkey(remote.get_available_name(self._key(name), longer))

    def delete(self, name):
        remote = self._remote()
        return remote.delete(self._key(name)) if remote else super().delete(name)

    def exists(self, name):
        remote = self._remote()
        return remote.exists(self._key(name)) if remote else super().exists(name)

    def size(self, name):
        remote = self._remote()
        return remote.size(self._key(name)) if remote else super().size(name)

    def listdir(self, path):
        remote = self._remote()
        return remote.listdir(self._key(path)) if remote else super().listdir(path)

    def get_modified_time(self, name):
        remote = self._remote()
        return remote.get_modified_time(self._key(name)) if remote else super().get_modified_time(name)

    def path(self, name):
        if self._remote():
            raise NotImplementedError("files in object storage have no local path; open them instead")
        return super().path(name)

    def url(self, name):
        remote = self._remote()
        if remote:
            # A short-lived signed URL (AWS_QUERYSTRING_EXPIRE); the portal's views serve files through
            # their permission checks instead, and never hand this out.
            return remote.url(self._key(name))
        return super().url(name)
