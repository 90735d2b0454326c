# Two commands for a fresh machine: `make run` (the main job) and `make test` (the whole suite).
# Both create .venv with a Python 3.12+ and install the pinned dependencies first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install browser slurm run test test-portable lint format lock bench clean

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

# The browser the proposal explorer's tests drive (installed if missing and you can; else the command to run).
browser:
	@scripts/ensure-browser.sh

# Debian's slurm-wlm and munge, for the test of the SLURM recipe (which starts and stops the daemons).
slurm:
	@scripts/ensure-slurm.sh install

# The whole suite, then the portable pass below.
test: install browser slurm
	$(PY) -m pytest -n 2 --dist loadgroup --durations=30
	@$(MAKE) --no-print-directory test-portable

# The golden tests, the calibration search and the quick catalogue experiments again, with every SIMD
# dispatch target numpy uses on this CPU switched off (X86_V3 = AVX2/FMA; X86_V4 and AVX512_* where present), requiring
# bit-identical tables: the results do not depend on the CPU's vector units (docs/reliability.md).
PORTABLE_TESTS := tests/test_golden.py \
	"tests/validation/test_calibration.py::test_calibration_search_is_deterministic_and_is_the_shipped_search" \
	"tests/test_catalogue.py::test_fresh_run_agrees_with_committed_reference[main]" \
	"tests/test_catalogue.py::test_fresh_run_agrees_with_committed_reference[regime_switch]" \
	"tests/test_catalogue.py::test_fresh_run_agrees_with_committed_reference[public_goods_lab]"
test-portable: install
	@off="$$($(PY) -c 'from sim.provenance import cpu_features; print(" ".join(cpu_features()["numpy_dispatch"]))')"; \
	echo "portable pass: NPY_DISABLE_CPU_FEATURES=\"$$off\" SIM_REPRO_EXACT=1 (golden, calibration search and quick catalogue tests)"; \
	NPY_DISABLE_CPU_FEATURES="$$off" SIM_REPRO_EXACT=1 $(PY) -m pytest -n 2 -p no:cacheprovider $(PORTABLE_TESTS)

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

# numba's on-disk cache keeps an entry per kernel and source line, so edits leave stale ones behind.
clean:
	rm -rf $(VENV) outputs multirun .pytest_cache .ruff_cache .mypy_cache
	find sim -path '*/__pycache__/*' \( -name '*.nbi' -o -name '*.nbc' \) -delete

bench: install
	$(PY) benchmarks/run.py
