# Journey: the front door. `make demo` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export JOURNEY_HOME ?= $(CURDIR)/.journey
PYTEST_ARGS ?=

.PHONY: load-client serve bench-serve demo airflow test browser lint install check-java db-start db-stop clean bench bench-pipeline bench-models bench-campaigns help

help:
	@echo "make demo   - install, start embedded PostgreSQL, generate data, run the daily DAG, print a summary"
	@echo "make airflow - serve Airflow locally (UI + REST API on JOURNEY_AIRFLOW_PORT, default 8080) until Ctrl-C"
	@echo "make serve  - serve the next-best-action HTTP API on 127.0.0.1:JOURNEY_API_PORT (default 8000; docs/api.md)"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff (with Airflow AIR rules)"
	@echo "make bench  - every benchmark (bench-pipeline, bench-models, bench-campaigns, bench-serve; see docs/benchmarks.md)"

check-java:
	@PYTHONPATH=plugins $(PYTHON) -m journey.runtime.javacheck >/dev/null || { PYTHONPATH=plugins $(PYTHON) -m journey.runtime.javacheck; exit 1; }

$(STAMP): requirements.txt constraints.txt setup.cfg
	@echo "==> Creating $(VENV) and installing pinned dependencies (first time: a few minutes)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	@$(PY) -m pip install -q --no-deps -e .
	@touch $(STAMP)

install: check-java $(STAMP)

demo: install
	@$(VENV)/bin/journey demo

airflow: install
	@$(VENV)/bin/journey airflow

serve: install
	@$(VENV)/bin/journey serve

test: install browser
	@$(PY) -m pytest $(PYTEST_ARGS)

# A Debian package, installed when root with apt-get (an index refresh only when the first try fails).
APT_GET = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends
APT_INSTALL = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	{ $(APT_GET) $(1) >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && $(APT_GET) $(1) >/dev/null 2>&1; }; }

# Headless Chromium for the report screenshot tests: installed when root with apt-get, else those tests skip.
browser:
	@[ -x /usr/bin/chromium ] || { $(call APT_INSTALL,chromium); } || \
	  echo "chromium not installed (needs root and apt-get): report screenshot tests will skip"

# wrk, the load client of bench-serve: installed when root with apt-get, else the benchmark falls back to httpx.
load-client:
	@command -v wrk >/dev/null 2>&1 || { $(call APT_INSTALL,wrk); } || \
	  echo "wrk not installed (needs root and apt-get): bench-serve uses httpx, whose ~2 ms of CPU a request caps the figure"

lint: install
	@$(VENV)/bin/ruff check plugins jobs dags tests

bench: bench-pipeline bench-models bench-campaigns bench-serve

bench-pipeline: install
	@$(PY) -m journey.perf.daily

bench-models: install
	@$(PY) -m journey.perf.models --users 20000 --days 30 --seed 7

bench-campaigns: install
	@$(PY) -m journey.perf.campaigns

bench-serve: install load-client
	@$(PY) -m journey.perf.serve --users 1000000 --requests 30000 --concurrency 8 --max-seconds 60

db-start: install
	@$(VENV)/bin/journey db start

db-stop: install
	@$(VENV)/bin/journey db stop

clean:
	@-$(VENV)/bin/journey db stop 2>/dev/null
	rm -rf .journey
