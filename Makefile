# vrmvault: `make run` to try it, `make test` to check it, `make bench` to measure it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
DEMO_MEMBERS ?= 200
# Where `make run` serves: `make run PORT=8010` (or HOST=0.0.0.0 behind a TLS proxy).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test coverage lint bench bytecode chromium wrk postgresql clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "vrmvault needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

$(VENV)/.test: pyproject.toml $(VENV)/.runtime
	$(PIP) install -e '.[test]'
	touch $@

# The project's compiled bytecode, as pip writes it for an installed (not editable) package:
# where PYTHONDONTWRITEBYTECODE is set, Python would otherwise compile every module of ours
# again at each start (about 0.4 s of `vrmvault serve`'s start, and of every command's). Only
# what changed since is compiled again; Python still checks each file's stamp before using it.
PROJECT_PACKAGES := vrmvault vault consent community intents compliance brand_gateway web demo
bytecode: $(VENV)/.runtime
	$(BIN)/python -m compileall -q $(PROJECT_PACKAGES)

run: $(VENV)/.runtime bytecode
	$(BIN)/vrmvault init --demo $(DEMO_MEMBERS) --host $(HOST) --port $(PORT)
	$(BIN)/vrmvault serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium; }

# The storage and functional tests run on PostgreSQL too (and bench/postgresql.py measures it):
# Debian's server, in a throwaway cluster the run starts and removes (tests/postgresql_server.py);
# none is installed when VRMVAULT_TEST_DATABASE_URL names an existing server instead.
postgresql:
	@[ -n "$$VRMVAULT_TEST_DATABASE_URL" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "Installing Debian's postgresql for the tests and benchmarks"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q postgresql; }

# The brand API benchmark loads the server with Debian's wrk.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the brand API benchmark"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q wrk; }

lint: $(VENV)/.test
	$(BIN)/ruff check $(PROJECT_PACKAGES) tests bench
	$(BIN)/mypy

# One pytest worker per core, each test file kept on one worker (its module fixtures built once).
# Coverage is measured apart (make coverage): it costs the run about a quarter of its time, and
# with every functional test on both engines the suite must stay within its 20 minutes.
test: $(VENV)/.test bytecode chromium postgresql lint
	$(BIN)/pytest -n auto --dist loadfile

coverage: $(VENV)/.test bytecode chromium postgresql
	$(BIN)/pytest -n auto --dist loadfile --cov --cov-report=term:skip-covered

bench: $(VENV)/.test bytecode wrk postgresql
	$(BIN)/python -m bench

clean:
	find $(PROJECT_PACKAGES) -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage
