# Two commands: `make run` runs the bot, `make test` runs every check. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The database engines of the storage and end-to-end tests (tests/engines.py).
AGORA_TEST_ENGINES ?= sqlite,postgresql

.PHONY: run test lint bench soak install clean charts

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Every test on both engines: SQLite (a file) and PostgreSQL (127.0.0.1:5432, see tests/engines.py).
test: lint
	AGORA_TEST_ENGINES=$(AGORA_TEST_ENGINES) $(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench

# Every chart of every feature from fixed example data (edge cases included) into docs/charts/.
charts: $(STAMP)
	$(BIN)/python -m tests.chart_examples docs/charts

soak: $(STAMP)
	$(BIN)/python -m tests.resilience.soak

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
