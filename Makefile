# Every command is one line. See README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export UV_PYTHON_DOWNLOADS := never

.PHONY: install demo test lint types unit bench bench-round migrate e2e clean

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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
