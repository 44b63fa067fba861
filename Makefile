# Two entry points a newcomer needs: `make demo` and `make test`.
# Each one creates the virtual environment on first use, so either works from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo demo-hubspot demo-web test test-fast test-lowest lint docs bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python samples/demo.py

demo-hubspot: $(STAMP)
	$(BIN)/python samples/demo_hubspot.py

demo-web: $(STAMP)
	$(BIN)/python samples/demo_web.py

# Every test, on every core (tests/conftest.py says how many workers). Bytecode caches are
# written even where PYTHONDONTWRITEBYTECODE is set (they are git-ignored): the suite starts
# about 120 bulkio processes and a pytest worker per core, each of which would otherwise
# compile bulkio and rewrite the tests' asserts again (about 30 s of CPU).
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n auto --dist worksteal

test: $(STAMP)
	$(PYTEST)

# A quicker loop while developing: everything but the tests marked slow.
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

# The same tests on the lowest versions pyproject.toml allows (.ci/lowest.txt), in an
# environment of their own: code that needs more than a declared minimum fails here, not on a
# user's machine.
LOWEST := .venv-lowest
$(LOWEST)/.installed: pyproject.toml .ci/lowest.txt
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet -c .ci/lowest.txt -e '.[test]'
	touch $@

test-lowest: $(LOWEST)/.installed
	PYTHONDONTWRITEBYTECODE= $(LOWEST)/bin/python -m pytest -n auto --dist worksteal

# The checkers are pinned: a new release's new rules should land by choice, not break CI.
lint: $(STAMP)
	$(BIN)/python -m pip install --quiet 'mypy==2.4.1' 'ruff==0.17.6' 'types-aiofiles==25.1.0.20261107'
	$(BIN)/python -m ruff check bulkio tests benchmarks samples
	$(BIN)/python -m mypy

# The documentation site, into build/site/: the command reference regenerated from the
# commands' --help, then a --strict build (a broken link or a page left out fails it).
docs: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/python docs/gen_reference.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(LOWEST) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
