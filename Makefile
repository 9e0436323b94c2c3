# kakehashi — the README's two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# extras the test suite exercises (vendor stand-ins included); keep in step with pyproject
TEST_EXTRAS ?= test
STAMP  := $(VENV)/.installed-$(TEST_EXTRAS)

.PHONY: demo test bench lint format clean venv

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-core: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e ".[$(TEST_EXTRAS)]"
	touch $@

venv: $(STAMP)

demo: $(VENV)/.installed-core
	$(VENV)/bin/kakehashi demo

test: $(STAMP)
	$(PY) -m pytest -q -n 2 --dist loadfile

# benchmark-only comparators (never kakehashi dependencies); the engines benchmark also uses
# simulated-bifurcation when installed by hand with `pip install torch==2.13.0 simulated-bifurcation`
bench: $(STAMP)
	$(PY) -m pip install -q amplify==1.7.3 pyqubo==1.5.0
	$(PY) benchmarks/model_build.py --cities 100 --repeats 9 --slow-repeats 2
	$(PY) benchmarks/engines.py --runs 3 --budget 10 --threads 2
	$(PY) benchmarks/apps_baselines.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

format: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks
	$(VENV)/bin/ruff check --fix src tests benchmarks

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache
