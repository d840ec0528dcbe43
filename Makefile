# Everything runs inside .venv/, which the first target that needs it creates.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= build/demo

# nbgrader shells out to alembic and jupyter: the venv's bin/ must come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)
export MPLBACKEND := Agg

.PHONY: demo test test-fast bench venv clean release check-release lock

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; run e.g. make PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -e ".[browser,test]"
	@touch $@

demo: $(STAMP)
	$(BIN)/python -m autograder.demo --out $(DEMO)

# The tests marked `alone` look at the whole machine: they run first, by themselves. The rest run on
# every core (pytest-xdist), a test module per worker at a time so that its fixtures are built once,
# in the order conftest.py gives (the longest modules first). See tests/alone.py.
PARALLEL := --numprocesses auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

test: $(STAMP)
	status=0; \
	$(BIN)/python -m pytest -m alone || status=$$?; \
	$(BIN)/python -m pytest $(PARALLEL) -m "not alone" || status=$$?; \
	exit $$status

test-fast: $(STAMP)
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py
	$(BIN)/python benchmarks/bench_grading.py
	$(BIN)/python benchmarks/bench_gradebook.py
	$(BIN)/python benchmarks/bench_dask.py
	$(BIN)/python benchmarks/bench_student.py

clean:
	rm -rf $(VENV) build .pytest_cache

release: $(STAMP)
	$(BIN)/python -m autograder.assign

check-release: $(STAMP)
	$(BIN)/python -m autograder.assign --check

# The exact versions a Gradescope image installs (setup.sh in the zip), resolved from
# pyproject.toml's ranges for the Pythons of Gradescope's base images.
lock: $(STAMP)
	$(BIN)/python -m autograder.pins
