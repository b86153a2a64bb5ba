# newsletter: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test check lint bench clean install install-test

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsletter needs Python 3.11 or newer; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(VENV)/.installed $@

# caniemail's support data (npm package), read by the email-quality tests.
CANIEMAIL := .cache/caniemail/node_modules/caniemail/data/caniemail.json
$(CANIEMAIL):
	@if command -v npm >/dev/null; then \
	  npm install --silent --no-audit --no-fund --prefix .cache/caniemail caniemail@2.0.2; \
	else echo "npm not found: the caniemail check will be skipped"; fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## Run the whole day on the sample data: database, articles, subscribers, edition, send.
demo: install
	$(BIN)/newsletter demo

## The static checks, then the whole test suite. PostgreSQL tests use
## NEWSLETTER_TEST_DATABASE_URL, else a throwaway database on 127.0.0.1:5432 (user postgres)
## when that server answers; otherwise they are not run (one line of the summary says so).
test: install-test $(CANIEMAIL)
	@$(MAKE) --no-print-directory check
	$(BIN)/python -m pytest

## Static checks: lint, formatting, types, and the layers between the packages.
check: install-test
	$(BIN)/ruff check newsletter tests benchmarks
	$(BIN)/ruff format --check newsletter tests benchmarks
	$(BIN)/mypy newsletter
	$(BIN)/lint-imports

## Measure: compose time for 1k/10k/100k candidates; delivery to BENCH_SUBSCRIBERS readers
## (file, DKIM, SMTP sinks, HTTP providers' stand-ins; SQLite, and PostgreSQL from
## NEWSLETTER_TEST_DATABASE_URL or the local server on 127.0.0.1:5432 when it answers).
## BENCH_ARGS adds options, e.g. BENCH_ARGS="--million --only file/sqlite".
BENCH_SUBSCRIBERS ?= 10000
BENCH_ARGS ?=
bench: install-test
	$(BIN)/python -m benchmarks.bench_compose
	$(BIN)/python -m benchmarks.bench_delivery --subscribers $(BENCH_SUBSCRIBERS) $(BENCH_ARGS)

lint: install-test
	$(BIN)/ruff check newsletter tests benchmarks

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache .import_linter_cache test-artifacts .cache
