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

.PHONY: demo test venv chromium lint ddl clean

$(BIN)/gjenganger: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/gjenganger

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

test: venv chromium
	$(BIN)/python -m pytest -p no:cacheprovider

ddl: venv
	$(BIN)/python -m gjenganger.data_schema.ddl
	$(BIN)/python -m gjenganger.data_schema.dictionary

clean:
	rm -rf $(VENV) $(DEMO) .gjenganger-home
