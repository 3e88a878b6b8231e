# make plan STACK=dev   offline plan of a stack (ARGS="--json" or ARGS="--out plan-out" for more)
# make test             the whole suite; installs what it needs on a fresh machine
# make bench            prod plan time against an empty program under the same mock engine

PYTHON ?= python3
STACK ?= dev
ARGS ?=
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: plan test bench reference deps

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.test: requirements-test.txt reference_app/requirements.txt requirements-ops.txt recovery/requirements.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

.venv-checkov/.installed: requirements-checkov.txt
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

.venv-langgraph-api/.installed: requirements-langgraph-api.txt
	test -x .venv-langgraph-api/bin/python || $(PYTHON) -m venv .venv-langgraph-api
	.venv-langgraph-api/bin/python -m pip install -q --disable-pip-version-check -r requirements-langgraph-api.txt
	touch $@

# Debian packages the engines need (command -> package), installed only where missing (CI runs as root).
ENGINES := go:golang-go pg_isready:postgresql-client /usr/lib/postgresql/15/bin/postgres:postgresql \
	redis-server:redis-server redis-sentinel:redis-sentinel haproxy:haproxy prometheus:prometheus \
	amtool:prometheus-alertmanager prometheus-postgres-exporter:prometheus-postgres-exporter \
	prometheus-redis-exporter:prometheus-redis-exporter
# What builds Fluent Bit for the log-pipeline test (no registry ships its binary): tools by command
# (npm only where no Node.js is installed: Debian's npm conflicts with NodeSource's nodejs), and
# headers by package.
FLUENT_BIT_TOOLS := cmake:cmake flex:flex bison:bison npm:npm
FLUENT_BIT_HEADERS := libonig-dev libssl-dev
deps:
	@missing=$$(for pair in $(ENGINES) $(FLUENT_BIT_TOOLS); do command -v $${pair%%:*} >/dev/null || echo $${pair##*:}; done; \
		for p in $(FLUENT_BIT_HEADERS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

.cache/fluent-bit/1.8.15/fluent-bit: tests/engines/fluentbit.py $(VENV)/.test
	$(PY) -m tests.engines.fluentbit

plan: $(VENV)/.runtime
	$(PY) -m tools.plan $(STACK) $(ARGS)

test: deps $(VENV)/.test .cache/fluent-bit/1.8.15/fluent-bit .venv-checkov/.installed .venv-langgraph-api/.installed
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: $(VENV)/.runtime
	$(PY) -m tools.bench

reference: $(VENV)/.runtime
	$(PY) -m tools.readme --write README.md
