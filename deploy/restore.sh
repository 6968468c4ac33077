#!/usr/bin/env bash
# Restore a backup made by backup.sh into an EMPTY database (and files folder or bucket).
#   DATABASE_URL=postgres://.../clean_finance_restored deploy/restore.sh /var/backups/clean-finance/<stamp>
# Then: python manage.py migrate (no-op when the code matches the backup), start the processes.
set -euo pipefail
SRC=${1:?usage: restore.sh BACKUP_FOLDER}
: "${DATABASE_URL:?DATABASE_URL must be set (an empty database)}"
( cd "$SRC" && sha256sum --check --quiet SHA256SUMS )
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$DATABASE_URL" "$SRC/database.dump"
if [ -d "$SRC/objects" ]; then
  python - "$SRC/objects" <<'PY'
import os, sys, boto3
src = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=os.environ.get("PORTAL_S3_ENDPOINT_URL") or None,
                  region_name=os.environ.get("PORTAL_S3_REGION") or None,
                  aws_access_key_id=os.environ.get("PORTAL_S3_ACCESS_KEY"),
                  aws_secret_access_key=os.environ.get("PORTAL_S3_SECRET_KEY"))
bucket = os.environ["PORTAL_S3_BUCKET"]
for root, _dirs, files in os.walk(src):
    for name in files:
        path = os.path.join(root, name)
        s3.upload_file(path, bucket, os.path.relpath(path, src))
PY
elif [ -d "$SRC/files" ]; then
  TARGET=${RESTORE_FILES_TO:?set RESTORE_FILES_TO to the folder that holds media/ and private_media/}
  mkdir -p "$TARGET"
  for archive in "$SRC"/files/*.tar.gz; do
    name=$(basename "$archive" .tar.gz)
    mkdir -p "$TARGET/${name%%-*}" && tar -C "$TARGET/${name%%-*}" -xzf "$archive"
  done
fi
echo "restored $SRC"
