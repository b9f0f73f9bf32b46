# Resync: `make run` starts the console, `make test` runs the quality gate and the tests.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
PG_URL ?= postgres://postgres@127.0.0.1:5432/test
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test install install-dev setup lint typecheck test-sqlite test-postgres test-ops test-drills system-deps bench lock clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip uv

# Runtime dependencies, pinned by requirements.lock; `make test` adds the dev tools of
# requirements-dev.lock (the same pins plus pytest, mypy, ...). Regenerate both with `make lock`.
install: $(PY)
	$(UV) pip install --quiet --python $(PY) -r requirements.lock

install-dev: install
	$(UV) pip install --quiet --python $(PY) -r requirements-dev.lock

setup: install
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py demo_setup

run: setup
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(VENV)/bin/mypy --strict --scripts-are-modules scripts/governance
	$(VENV)/bin/pylint -E --rcfile=pyproject.toml resync_site tws etl cachemig audit core
	$(PY) scripts/governance
	$(VENV)/bin/lint-imports

# SQLite pass (everything but the PostgreSQL-only tests), then the PostgreSQL pass.
test-sqlite: install-dev
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not postgres and not browser and not drill" --cov --cov-report= $(PYTEST_ARGS)
	@# Playwright's sync API keeps an event loop running in its thread: browser tests get their own pass.
	$(VENV)/bin/pytest -m "browser and not postgres" --cov --cov-append --cov-report= $(PYTEST_ARGS)

test-postgres: install-dev
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || [ "$$CI" = "true" ]; then \
	  DATABASE_URL=$(PG_URL) $(VENV)/bin/pytest -n 2 --dist loadgroup -m "postgres and not browser" --cov --cov-append --cov-report= $(PYTEST_ARGS) \
	    || { rc=$$?; [ $$rc -eq 5 ] && echo "no PostgreSQL tests selected" || exit $$rc; }; \
	else echo "PostgreSQL is not reachable on 127.0.0.1:5432: PostgreSQL tests skipped"; fi

# Debian tools the tests use: promtool (alert rule tests) and chromium (browser tests).
# Installed when missing and we are root (CI and the developer machines are); otherwise those tests skip.
system-deps:
	@missing=""; command -v promtool >/dev/null || missing="$$missing prometheus"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    (apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 || \
	     { apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; }); \
	  else echo "not root: cannot install$$missing; the tests that need them skip"; fi; \
	fi

test-ops: system-deps
	@if command -v promtool >/dev/null; then \
	  promtool check rules ops/prometheus/alerts.yml && promtool test rules ops/prometheus/alerts_test.yml; \
	elif [ "$$CI" = "true" ]; then echo "CI=true but promtool is missing"; exit 1; \
	else echo "promtool missing: alert rule tests skipped"; fi

# Fault drills (docs/drills.md): the whole stack as in production with its own PostgreSQL cluster and Redis,
# in their own pytest pass (one stack, drills in file order, no xdist). CI=true: a missing prerequisite fails.
test-drills: install-dev
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v redis-server >/dev/null; then \
	  $(VENV)/bin/pytest tests/drills -m drill $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
	  echo "CI=true but the fault drills need PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) and redis-server"; exit 1; \
	else echo "fault drills skipped: they need PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) and redis-server"; fi

test: lint test-ops test-sqlite test-postgres test-drills
	$(VENV)/bin/coverage report --format=total | xargs -I{} echo "coverage: {}% of statements"

bench: install-dev
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock: $(PY)
	$(UV) pip compile pyproject.toml -o requirements.lock --python-version 3.11
	$(UV) pip compile pyproject.toml --extra dev -c requirements.lock -o requirements-dev.lock --python-version 3.11

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .coverage
