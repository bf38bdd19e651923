# Two commands for a new user: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install compiled run test test-fast lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Clarion needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

COMPILED := import sys; from clarion.compiled import main; sys.exit(main(sys.argv[1:]))
# The audience consumer's hot modules compiled with mypyc (src/clarion/compiled.py); a
# no-op while they are current. Without a C compiler they stay Python, unless
# CLARION_REQUIRE_COMPILED is set (CI).
compiled: install
	$(BIN)/python -c '$(COMPILED)' build $(if $(CLARION_REQUIRE_COMPILED),--require)

run: compiled  ## set up and start Clarion on the embedded default (SQLite ./clarion.db)
	$(BIN)/clarion serve

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint compiled  ## set up and run everything CI runs
	$(BIN)/pytest
	@# The compiled modules' own suite once more as Python: what runs without a compiler.
	CLARION_PURE=1 $(BIN)/pytest -q tests/audiences tests/test_compiled.py

test-fast: install  ## the inner loop: skips the slow suites
	$(BIN)/pytest -m "not slow" -x -q

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	test ! -x $(BIN)/python || $(BIN)/python -c '$(COMPILED)' clean
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
