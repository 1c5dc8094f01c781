# gjenganger: two commands on a fresh machine, `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo
SEED ?= 42
DAYS ?= 730
START ?= $(shell $(PY) -c "import datetime as d; print(d.date.today() - d.timedelta(days=$(DAYS)))")
export GJENGANGER_HOME ?= $(CURDIR)/.gjenganger-home
export PREFECT_HOME ?= $(CURDIR)/.gjenganger-home/prefect
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120

.PHONY: demo test test-fast venv lock upgrade lock-check chromium lint ddl clean

# The exact versions, with hashes, of everything installed (dev tools too) are in
# requirements.lock; pyproject.toml states the compatible ranges. The project
# itself is installed editable without dependencies, so tests run the working tree,
# and built with the locked setuptools (no build isolation: nothing unlocked).
LOCK := requirements.lock
$(BIN)/gjenganger: $(LOCK) pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(BIN)/gjenganger

# Regenerate the lock after editing the ranges in pyproject.toml (pins already in
# the lock are kept where they still fit); `make upgrade` moves every pin to the
# newest version the ranges allow. Universal: one lock for every platform and
# Python version that pyproject.toml allows, with environment markers.
COMPILE = UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile --quiet \
	pyproject.toml --extra dev --generate-hashes --universal
lock: venv
	$(COMPILE) -o $(LOCK)

upgrade: venv
	$(COMPILE) --upgrade -o $(LOCK)

# CI: the lock still matches the ranges in pyproject.toml (nothing to add or drop).
lock-check: venv
	cp $(LOCK) $(VENV)/lock-check.txt
	$(COMPILE) -o $(VENV)/lock-check.txt
	@diff -u $(LOCK) $(VENV)/lock-check.txt >/dev/null || { diff -u $(LOCK) \
	  $(VENV)/lock-check.txt | head -40; echo "$(LOCK) is out of date: make lock"; exit 1; }

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; \
	fi

demo: venv
	rm -rf $(DEMO)
	$(BIN)/gjenganger generate --out $(DEMO)/data --seed $(SEED) --start $(START) --days $(DAYS)
	$(BIN)/gjenganger nightly --inbox $(DEMO)/data/inbox --db $(DEMO)/gjenganger.duckdb --publish $(DEMO)/publish

# ruff with the project's configuration (pyproject.toml): lint rules and format.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Everything: lint first, then the whole suite (slow and browser tests included),
# on two pytest-xdist workers (one per core here; each test file stays on one
# worker, so its module fixtures are built once; each worker has its own home).
PYTEST_WORKERS ?= 2
test: venv lint chromium
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile --durations=15

# The quick loop while editing: no lint, no tests marked slow.
test-fast: venv
	$(BIN)/python -m pytest -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile -m "not slow"

ddl: venv
	$(BIN)/python -m gjenganger.data_schema.ddl
	$(BIN)/python -m gjenganger.data_schema.dictionary

clean:
	rm -rf $(VENV) $(DEMO) .gjenganger-home
