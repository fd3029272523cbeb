# QI Portal. The two commands: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed

.PHONY: install run test lint format services-test bench bench-api bench-load bench-national lock frontend clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The portal with demo data on the embedded default (SQLite, Celery in-process).
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Serving the QI Portal at http://127.0.0.1:$(PORT)/ (Ctrl+C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## The whole suite. With DATABASE_URL and REDIS_URL set it runs on PostgreSQL and Redis,
## and the integration tests run when a Celery worker is live.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## PostgreSQL + Redis + a live Celery worker (what CI runs second). Needs both services up.
services-test: install
	bash .ci/services-test

bench: install
	$(BIN)/python bench/bench_spc.py
	$(BIN)/python bench/bench_project_list.py
	$(BIN)/python bench/bench_funnel.py

## API lists and bulk ingest against a bare DRF endpoint, at 10 / 1,000 (/ 5,000) rows
## (bench/bench_api.py); SQLite unless DATABASE_URL is set; appended to bench/RESULTS.md.
bench-api: install
	$(BIN)/python bench/bench_api.py $(BENCH_ARGS)

## 50 users for 60 s on gunicorn + PostgreSQL + Redis, against /healthz (bench/bench_load.py).
bench-load: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,bench]"
	$(BIN)/python bench/bench_load.py

## The synthetic country on PostgreSQL + Redis (bench/bench_national.py): rebuild, pages,
## write → snapshot latency and memory, as ratios; appended to bench/RESULTS.md.
bench-national: install
	$(BIN)/python bench/bench_national.py $(BENCH_ARGS)

## Re-pin dependencies after changing pyproject.toml.
lock:
	rm -rf /tmp/qi-lock-venv && $(PYTHON) -m venv /tmp/qi-lock-venv
	/tmp/qi-lock-venv/bin/pip install --quiet -e ".[dev,bench]"
	(echo "# Pinned versions CI tested. Regenerate: make lock"; \
	 /tmp/qi-lock-venv/bin/pip freeze --exclude-editable) > constraints.txt

## Re-vendor nhsuk-frontend and htmx from the npm registry (needs Node; the portal does not).
frontend:
	bash scripts/update_frontend.sh

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
