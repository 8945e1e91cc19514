# Two commands on a fresh machine:
#   make demo   set up a virtual environment and run `shopseg demo`
#   make test   set up a virtual environment (with test extras) and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint test-browser java chromium bench fuzz venv clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,spark,bench]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/shopseg demo

test: lint $(STAMP) java chromium
	$(BIN)/python -m pytest -q --durations=15 --doctest-modules src tests

# The formatter, the linter and the type checker (config in pyproject.toml): a finding fails `make test`.
lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Java 17 for the Spark tests (PySpark in local mode)
java:
	@command -v java >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless)

# Debian's Chromium for the dashboard's browser tests (Playwright drives /usr/bin/chromium; it downloads no browser)
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)

test-browser: $(STAMP) chromium
	$(BIN)/python -m pytest -q tests/web

# Ingest fuzzing (issue 14): a seeded corpus of malformed files through the Python API and the CLI; the
# test suite runs 60 of them (tests/io/test_fuzz.py). FUZZ_COUNT and FUZZ_SEED pick the corpus.
FUZZ_COUNT ?= 2000
FUZZ_SEED  ?= 14
fuzz: $(STAMP)
	$(BIN)/python -m tests.io.fuzz_check --count $(FUZZ_COUNT) --seed $(FUZZ_SEED)

# PyMC-Marketing (a benchmark peer) gets its own environment: its PyMC/PyTensor pins clash with ours.
PYMC_VENV ?= .venv-pymc
$(PYMC_VENV)/.installed: bench/requirements-pymc.txt
	$(PYTHON) -m venv $(PYMC_VENV)
	$(PYMC_VENV)/bin/pip install -q -r bench/requirements-pymc.txt
	touch $@

bench: $(STAMP) $(PYMC_VENV)/.installed
	SHOPSEG_BENCH_PYMC_PYTHON=$(PYMC_VENV)/bin/python $(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info shopseg-demo
