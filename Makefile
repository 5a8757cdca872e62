# The two set-up commands are `make run` and `make test`; the rest are for operators.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

# Tests use PostgreSQL and Redis when they answer on localhost (and DATABASE_URL/REDIS_URL
# are not set already); otherwise the embedded defaults (SQLite, local-memory cache).
PG_UP := $(shell (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 -t 2) && echo yes)
REDIS_UP := $(shell (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && echo yes)
TEST_DATABASE_URL ?= $(if $(PG_UP),postgres://postgres@127.0.0.1:5432/creator_analytics,)
TEST_REDIS_URL ?= $(if $(REDIS_UP),redis://127.0.0.1:6379/15,)
PYTEST_ARGS ?= --reuse-db

.PHONY: run test bench lint worker worker-ai beat install migrate seed shell clean requirements

# Dependencies: requirements/base.in (runtime: what the production image installs) and
# requirements/dev.in (tests and tools, on top of base), compiled by pip-tools into pinned
# base.txt/dev.txt with hashes (`make requirements`). The local virtualenv gets dev.txt.
$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements/dev.txt
	touch $(STAMP)

# After editing requirements/*.in: pin the new set (existing pins are kept unless they must move).
requirements: install
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o base.txt base.in
	cd requirements && ../$(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links -o dev.txt dev.in

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

# Plans and prices are seeded by migrations; then the bundled sample creators go through the
# real pipeline (skipped when already complete), and the login is printed last, just before serving.
seed: migrate
	$(PY) manage.py load_sample_creators
	$(PY) manage.py create_staff_login --base-url http://$(HOST):$(PORT)

run: seed
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/ruff check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports --no-cache >/dev/null || $(VENV)/bin/lint-imports --no-cache
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache >/dev/null || $(VENV)/bin/lint-imports --no-cache

bench: install
	$(PY) bench/run.py

worker: install
	$(VENV)/bin/celery -A config worker -Q default,scrape,cdn -l INFO

worker-ai: install
	$(VENV)/bin/celery -A config worker -Q ai -c 1 -l INFO

beat: install
	$(VENV)/bin/celery -A config beat -l INFO

shell: install
	$(PY) manage.py shell

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
