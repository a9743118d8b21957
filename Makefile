# Every command is one line. See README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export UV_PYTHON_DOWNLOADS := never

.PHONY: install demo test lint types unit bench bench-round bench-load fuzz fault-pg migrate e2e clean

install: $(STAMP)

$(STAMP): constraints.txt matching/pyproject.toml platform/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ./matching -e './platform[dev]'
	touch $(STAMP)

demo: install
	$(PY) -m nuanxin demo

migrate: install
	$(PY) -m nuanxin migrate

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest

test: lint types unit

bench: install
	$(PY) bench/engine.py

bench-round: install
	$(PY) bench/round.py

# Throughput and p50/p95/p99 at rising concurrency (PostgreSQL on 127.0.0.1, Debian's wrk).
bench-load: install
	test -x /usr/bin/wrk || apt-get install -y wrk || sudo apt-get install -y wrk
	$(PY) bench/load.py

# A deeper schemathesis run than the suite's (examples per operation and mode).
fuzz: install
	NUANXIN_FUZZ_EXAMPLES=40 $(PY) -m pytest tests/nuanxin/fuzz -p no:cacheprovider

# Restarts the machine's PostgreSQL under load: on purpose only, never in `make test`.
fault-pg: install
	$(PY) tests/faults/pg_restart.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
