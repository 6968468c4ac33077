"""The restore drill (issue 16): back up the demo (pg_dump and the files) with deploy/backup.sh,
restore it with deploy/restore.sh into a fresh database and folder, and compare every table's row
count and checksum, and every file's checksum. Runs in `make test-cluster` (which `.ci/run` calls after
`make test`) and `make drill`."""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.complaints.helpers import make_image, submit_case
from tests.factories import InstitutionFactory

ROOT = Path(settings.BASE_DIR)


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _tables(url: str) -> dict[str, tuple[int, str]]:
    """table -> (rows, md5 of its rows in a canonical order)."""
    listing = subprocess.run(["psql", "-XAtq", url, "-c",
                              "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"],
                             capture_output=True, text=True, check=True).stdout.split()
    query = " UNION ALL ".join(
        f"SELECT '{t}', count(*), coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \"{t}\" x"
        for t in listing)
    rows = subprocess.run(["psql", "-XAtq", "-F", "\t", url, "-c", query], capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()
    return {name: (int(n), digest) for name, n, digest in (r.split("\t") for r in rows)}


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_backup_of_the_demo_restores_identically(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("the drill backs up PostgreSQL")
    evidence = tmp_path / "evidence"
    settings.COMPLAINTS_EVIDENCE_ROOT = evidence
    call_command("seed_demo", force=True, verbosity=0)
    bank = InstitutionFactory(code="DRILL-01", name="演练银行")
    photo = make_image("JPEG")
    from complaints.images import process_image

    submit_case(bank, images=[(process_image(photo), photo)])
    assert any(evidence.rglob("*.sealed"))
    source_url = _url(connection.settings_dict["NAME"])
    before = _tables(source_url)
    assert before["scoring_result"][0] > 0 and before["complaints_complaint"][0] > 0

    env = {**os.environ, "DATABASE_URL": source_url, "PORTAL_STORAGE": "local",
           "BACKUP_FOLDERS": str(evidence)}
    out = subprocess.run(["bash", str(ROOT / "deploy" / "backup.sh"), str(tmp_path / "backups")], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    backup = Path(out.stdout.strip().splitlines()[-1])
    assert (backup / "database.dump").stat().st_size > 0 and (backup / "SHA256SUMS").exists()

    restored_db = f"{connection.settings_dict['NAME']}_drill"
    subprocess.run(["psql", "-XAtq", _url("postgres"), "-c", f'DROP DATABASE IF EXISTS "{restored_db}"'], check=True,
                   capture_output=True)
    subprocess.run(["psql", "-XAtq", _url("postgres"), "-c", f'CREATE DATABASE "{restored_db}"'], check=True,
                   capture_output=True)
    try:
        restore_env = {**env, "DATABASE_URL": _url(restored_db), "RESTORE_FILES_TO": str(tmp_path / "restored")}
        out = subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(backup)], env=restore_env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        after = _tables(_url(restored_db))
    finally:
        subprocess.run(["psql", "-XAtq", _url("postgres"), "-c", f'DROP DATABASE IF EXISTS "{restored_db}"'],
                       capture_output=True)
    assert after == before
    restored_files = _files(tmp_path / "restored" / "1" / evidence.name)
    assert restored_files == _files(evidence) and restored_files

    # A damaged backup is refused before anything is restored.
    with open(backup / "database.dump", "ab") as fh:
        fh.write(b"x")
    out = subprocess.run(["bash", str(ROOT / "deploy" / "restore.sh"), str(backup)],
                         env={**env, "DATABASE_URL": _url("postgres_nonexistent_drill")},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "FAILED" in (out.stdout + out.stderr)
