#!/usr/bin/env bash
# Back up the portal: the database (pg_dump, custom format) and the stored files (the local folders,
# or the S3 bucket when PORTAL_STORAGE=s3), into one dated folder. docs/deployment.md, "Backups".
#   deploy/backup.sh /var/backups/clean-finance
# Reads DATABASE_URL (and the PORTAL_S3_* / folder settings) from the environment, like the portal.
set -euo pipefail
DEST=${1:?usage: backup.sh DEST_FOLDER}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$DEST/$STAMP"
mkdir -p "$OUT"
: "${DATABASE_URL:?DATABASE_URL must be set}"

# 1. The database: a consistent snapshot even while the portal runs (pg_dump takes one transaction).
pg_dump --format=custom --no-owner --no-privileges --file="$OUT/database.dump" "$DATABASE_URL"

# 2. The files. Taken after the database, so every file the dump refers to is there (a file newer
#    than the dump is harmless; a missing one would not be).
if [ "${PORTAL_STORAGE:-local}" = "s3" ]; then
  python - "$OUT/objects" <<'PY'
import os, sys, boto3
dest = sys.argv[1]
s3 = boto3.client("s3", endpoint_url=os.environ.get("PORTAL_S3_ENDPOINT_URL") or None,
                  region_name=os.environ.get("PORTAL_S3_REGION") or None,
                  aws_access_key_id=os.environ.get("PORTAL_S3_ACCESS_KEY"),
                  aws_secret_access_key=os.environ.get("PORTAL_S3_SECRET_KEY"))
bucket = os.environ["PORTAL_S3_BUCKET"]
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
    for item in page.get("Contents", []):
        path = os.path.join(dest, item["Key"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s3.download_file(bucket, item["Key"], path)
PY
else
  BASE=$(cd "$(dirname "$0")/.." && pwd)
  mkdir -p "$OUT/files"
  # BACKUP_FOLDERS (space-separated) overrides the list: every folder a *_ROOT setting names.
  read -r -a folders <<< "${BACKUP_FOLDERS:-${DJANGO_MEDIA_ROOT:-$BASE/media} $BASE/private_media \
${COMPLAINTS_EVIDENCE_ROOT:-} ${DASHBOARDS_REPORTS_ROOT:-} ${ACTIVITIES_FILES_ROOT:-} ${INSPECTIONS_FILES_ROOT:-}}"
  i=0
  for folder in "${folders[@]}"; do
    [ -d "$folder" ] || continue
    i=$((i + 1))
    tar -C "$(dirname "$folder")" -czf "$OUT/files/$i-$(basename "$folder").tar.gz" "$(basename "$folder")"
  done
fi
( cd "$OUT" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS )
echo "$OUT"
