# The two commands of the README: `make run` and `make test`. Both set themselves up (venv,
# pinned installs, migrations) on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# The suites run in TEST_PROCESSES processes (pytest-xdist; each its own test database and Redis
# databases, tests/conftest.py): 2 for a 2-core machine; 1 runs them in one process, in order.
TEST_PROCESSES ?= 2
PARALLEL := $(if $(filter 1,$(TEST_PROCESSES)),,-n $(TEST_PROCESSES) --dist load)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-cluster test-sqlite lint check venv worker clean prod drill

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

# The portal with the demo district at http://$(HOST):$(PORT)/ . SQLite and in-process Celery
# unless DATABASE_URL / CELERY_BROKER_URL are set; with a broker, a worker and beat start too.
run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@if [ -n "$$CELERY_BROKER_URL" ]; then \
	  echo "Starting Celery worker and beat (logs in celery.log)"; \
	  $(VENV)/bin/celery -A config worker --beat --loglevel=INFO --concurrency=2 >celery.log 2>&1 & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	else \
	  $(PY) manage.py runserver $(HOST):$(PORT); \
	fi

# The whole suite, against PostgreSQL and Redis when reachable (required when CI=true), but the
# cluster tests (`make test-cluster`, which .ci/run calls next).
test: $(VENV)/.installed
	@eval "$$($(PY) .ci/services.py)" && \
	  $(PY) manage.py makemigrations --check --dry-run >/dev/null && \
	  $(VENV)/bin/ruff check . && \
	  $(VENV)/bin/lint-imports && \
	  $(VENV)/bin/pytest $(PARALLEL) -m "not cluster" $(PYTEST_ARGS)

# The tests that start processes of their own against the test database and Redis (issue 16): two
# web processes and two workers with one killed mid-run, and the restore drill (pg_dump, restore,
# compare). They need PostgreSQL and Redis, and .ci/run runs them after `make test`.
test-cluster: $(VENV)/.installed
	@eval "$$($(PY) .ci/services.py)" && $(VENV)/bin/pytest -p no:randomly -m cluster $(PYTEST_ARGS)

# The suite again on SQLite, the `make run` default (CI runs it after `make test`): everything but the
# browser walks, the authorization matrix and the schema fuzz run, which do not depend on the engine
# and ran on PostgreSQL already. Redis as for `make test` when reachable.
test-sqlite: $(VENV)/.installed
	@eval "$$(TEST_ENGINE=sqlite $(PY) .ci/services.py)" && \
	  $(VENV)/bin/pytest $(PARALLEL) -m "not cluster" --ignore=tests/browser --ignore-glob='*test_browser*.py' --ignore=tests/test_access_matrix.py \
	    --deselect tests/core/test_schema_fuzz.py::test_no_generated_api_request_is_a_server_error $(PYTEST_ARGS)

# Style, then the apps' boundaries (.importlinter, docs/architecture.md).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Production settings must pass Django's deployment checklist.
check: $(VENV)/.installed
	DJANGO_DEBUG=false DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets;print(secrets.token_urlsafe(50))') \
	  COMPLAINTS_PII_KEY=$$($(PY) -c 'from cryptography.fernet import Fernet;print(Fernet.generate_key().decode())') \
	  $(PY) manage.py check --deploy --fail-level WARNING

worker: $(VENV)/.installed
	$(VENV)/bin/celery -A config worker --beat --loglevel=INFO

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache

# Production on this machine (deploy/run-prod.sh): migrations, static files, then gunicorn (workers
# from the CPU count), a Celery worker on the `default` and `heavy` queues and exactly one beat, with
# DJANGO_DEBUG=false against DATABASE_URL and CELERY_BROKER_URL (DJANGO_SECRET_KEY and
# COMPLAINTS_PII_KEY required). docs/deployment.md.
prod: $(VENV)/.installed
	bash deploy/run-prod.sh

# The restore drill alone: back up the demo, restore it into a fresh database, compare (also in
# `make test-cluster`).
drill: $(VENV)/.installed
	@eval "$$($(PY) .ci/services.py)" && $(VENV)/bin/pytest -p no:randomly tests/ops/test_restore_drill.py
