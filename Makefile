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

$(VENV)/.test: requirements-test.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

.venv-checkov/.installed: requirements-checkov.txt
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install -q --disable-pip-version-check -r requirements-checkov.txt
	touch $@

# Debian packages the engines need, installed only where missing (CI runs as root).
deps:
	@command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)

plan: $(VENV)/.runtime
	$(PY) -m tools.plan $(STACK) $(ARGS)

test: deps $(VENV)/.test .venv-checkov/.installed
	$(PY) -m pytest -q -p no:cacheprovider tests

bench: $(VENV)/.runtime
	$(PY) -m tools.bench

reference: $(VENV)/.runtime
	$(PY) -m stackconfig.reference --write README.md
