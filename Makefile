# Two commands for a fresh machine: `make run` (the main job) and `make test` (the whole suite).
# Both create .venv with a Python 3.12+ and install the pinned dependencies first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test lint format lock bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@if [ ! -x $(PY) ]; then \
		base=$$(scripts/find-python.sh) || exit 1; \
		echo "creating $(VENV) with $$base"; \
		"$$base" -m venv $(VENV); \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dev]"
	@touch $(STAMP)

run: install
	$(PY) -m sim

test: install
	$(PY) -m pytest -n 2 --dist loadgroup

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: install
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Re-pin every dependency to what is installed now (run after changing pyproject.toml).
lock: install
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache .mypy_cache

bench: install
	$(PY) benchmarks/run.py
