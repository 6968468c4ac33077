"""Decide which services the test run uses; prints shell `export` lines for `eval`.

PostgreSQL and Redis on 127.0.0.1 are used when reachable. Under CI=true they are required:
a missing one fails the run instead of silently falling back to SQLite.
"""

import os
import socket
import sys

PG = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clean_finance")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    pg_ok = reachable("127.0.0.1", 5432)
    redis_ok = reachable("127.0.0.1", 6379)
    if ci and not (pg_ok and redis_ok):
        missing = [n for n, ok in (("PostgreSQL", pg_ok), ("Redis", redis_ok)) if not ok]
        print(f"echo 'CI: {' and '.join(missing)} unreachable on 127.0.0.1' >&2; false")
        return 0
    lines = []
    if os.environ.get("TEST_ENGINE") == "sqlite":  # make test-sqlite: the `make run` default
        lines += ["unset DATABASE_URL", "echo 'Testing on SQLite (TEST_ENGINE=sqlite)' >&2"]
    elif pg_ok:
        lines.append(f"export DATABASE_URL='{PG}'")
    else:
        lines.append("echo 'PostgreSQL unreachable: testing on SQLite' >&2")
    if redis_ok and os.environ.get("TEST_ENGINE") == "sqlite":  # its own Redis databases
        lines += [f"export REDIS_URL='{REDIS}/3'", f"export TEST_CELERY_BROKER_URL='{REDIS}/4'"]
    elif redis_ok:
        lines += [f"export REDIS_URL='{REDIS}/1'", f"export TEST_CELERY_BROKER_URL='{REDIS}/2'"]
    else:
        lines.append("echo 'Redis unreachable: broker integration tests skipped' >&2")
    if ci:
        lines.append("export CI=true")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
