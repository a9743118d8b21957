# Every command is one line. See README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export UV_PYTHON_DOWNLOADS := never

.PHONY: install vendor demo test lint types unit e2e faults bench bench-round bench-province bench-routes bench-load bench-throughput fuzz fault-pg migrate messages mutation clean

install: $(STAMP) vendor

# Third-party browser assets (htmx, Leaflet, Chart.js): pinned npm tarballs, sha512-checked, into
# frontend/static/vendor/ (git-ignored). Offline, the pages still work without maps and charts.
vendor: $(STAMP)
	$(PY) frontend/vendor.py

$(STAMP): constraints.txt matching/pyproject.toml platform/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ./matching -e './platform[dev]'
	touch $(STAMP)

demo: install
	$(PY) -m nuanxin demo

# Two app servers and two job workers behind Debian's nginx, on the machine's PostgreSQL and
# Redis (DATABASE_URL and REDIS_URL default to those on 127.0.0.1): see README, "Many servers".
cluster: install
	test -x /usr/sbin/nginx || apt-get install -y nginx || sudo apt-get install -y nginx
	$(PY) -m nuanxin cluster

migrate: install
	$(PY) -m nuanxin migrate

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: install
	$(VENV)/bin/mypy

# Unit and integration tests (the browser tests and the fault scenarios have targets of their own).
unit: install
	$(PY) -m pytest --ignore=tests/e2e --ignore=tests/faults

# Fault scenarios: real server processes killed, racing or cut off from their peers.
faults: install
	$(PY) -m pytest tests/faults -p no:cacheprovider

test: lint types unit e2e faults

bench: install
	$(PY) bench/engine.py

bench-round: install
	$(PY) bench/round.py

# A province's round on the machine's PostgreSQL (a database created for the run, dropped after):
# 1M households and 50k offers by default; ARGS="--households 100000 --offers 5000" for less.
bench-province: install
	$(PY) bench/province.py $(ARGS)

# A courier's day (20, 50, 80 stops) ordered by OR-Tools against nearest-neighbour: km and time ratios.
bench-routes: install
	$(PY) bench/routes.py

# Throughput and p50/p95/p99 with 1, 2 and 4 app servers behind nginx (PostgreSQL and Redis on
# 127.0.0.1, Debian's wrk and nginx).
bench-load: install
	test -x /usr/bin/wrk || apt-get install -y wrk || sudo apt-get install -y wrk
	test -x /usr/sbin/nginx || apt-get install -y nginx || sudo apt-get install -y nginx
	$(PY) bench/load.py

# Issue 17's measure: `nuanxin serve --workers 2` served directly, 16 connections (after 2 s not measured;
# 6 couriers per charity), each endpoint against its target (req/s, p99 under 100 ms), and the SQL
# statements and Redis round trips of one request.
bench-throughput: install
	test -x /usr/bin/wrk || apt-get install -y wrk || sudo apt-get install -y wrk
	$(PY) bench/load.py --throughput --workers 2 --connections 16 --warmup 2 --couriers 6

# A deeper schemathesis run than the suite's (examples per operation and mode).
fuzz: install
	NUANXIN_FUZZ_EXAMPLES=40 $(PY) -m pytest tests/nuanxin/fuzz -p no:cacheprovider

# Mutation testing of the critical modules (tests/mutation/modules.toml), each against its own
# tests, on a temporary copy of the tree: kill rate per module, survivors, var/mutation/report.md.
# Not part of `make test`. ONLY="offers.stock identity" narrows it.
mutation: install
	nice -n 10 $(PY) tests/mutation/run.py $(if $(ONLY),--only $(ONLY))

# Restarts the machine's PostgreSQL under load: on purpose only, never in `make test`.
fault-pg: install
	$(PY) tests/faults/pg_restart.py

# Browser tests: Debian's chromium and a CJK font, installed when missing; Playwright drives it.
e2e: install
	test -x /usr/bin/chromium && dpkg -s fonts-wqy-zenhei >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y chromium fonts-wqy-zenhei; } || { sudo apt-get update -qq && sudo apt-get install -y chromium fonts-wqy-zenhei; }
	$(PY) -m pytest tests/e2e -p no:cacheprovider

# Refresh the message catalogues (frontend/locales/*/LC_MESSAGES/messages.po) from the code.
messages: install
	$(PY) frontend/locales/update.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
