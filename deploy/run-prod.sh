#!/usr/bin/env bash
# `make prod`: the portal as production runs it, on this machine: migrations and static files, then
# gunicorn (workers from the CPU count), one Celery worker on the `default` and `heavy` queues and
# exactly one beat, all with DJANGO_DEBUG=false against DATABASE_URL and CELERY_BROKER_URL.
# Ctrl-C (or the end of gunicorn) stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

missing=()
for name in DATABASE_URL CELERY_BROKER_URL DJANGO_SECRET_KEY COMPLAINTS_PII_KEY; do
  [ -n "${!name:-}" ] || missing+=("$name")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "make prod: set ${missing[*]} (deploy/portal.env.example, docs/deployment.md)" >&2
  exit 2
fi

export DJANGO_DEBUG=false
export CELERY_TASK_DEFAULT_QUEUE=${CELERY_TASK_DEFAULT_QUEUE:-default}
export CELERY_HEAVY_QUEUE=${CELERY_HEAVY_QUEUE:-heavy}
export REDIS_URL=${REDIS_URL:-$CELERY_BROKER_URL}
export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d -t portal-metrics.XXXX)}
mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
RUN_DIR=${RUN_DIR:-$(mktemp -d -t portal-prod.XXXX)}

"$VENV/bin/python" manage.py migrate --noinput
"$VENV/bin/python" manage.py collectstatic --noinput >/dev/null

pids=()
stop() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop EXIT INT TERM

"$VENV/bin/celery" -A config worker --loglevel=INFO -Q "$CELERY_TASK_DEFAULT_QUEUE,$CELERY_HEAVY_QUEUE" \
  --concurrency="${CELERY_CONCURRENCY:-2}" -n "prod-worker@%h" &
pids+=($!)
"$VENV/bin/celery" -A config beat --loglevel=INFO --schedule="$RUN_DIR/celerybeat-schedule" &
pids+=($!)
"$VENV/bin/gunicorn" config.wsgi:application -c deploy/gunicorn.conf.py &
pids+=($!)
echo "make prod: web on ${GUNICORN_BIND:-127.0.0.1:8000} (pids ${pids[*]}); Ctrl-C stops web, worker and beat" >&2
wait -n "${pids[@]}"
