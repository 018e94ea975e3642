# Two entry points for a fresh machine with only Python 3.11, pip, git and make: `make demo`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench fuzz rules-doc clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# An editable install leaves our modules uncompiled, and where PYTHONDONTWRITEBYTECODE is set every run
	# would parse them again (a tenth of a second per command): compile them once here.
	$(BIN)/python -m compileall -q ocppscope proxy addons tui bench
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m ocppscope.proxy.demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .

test: lint
	$(BIN)/pytest

bench: $(BIN)/.installed
	$(BIN)/python -m bench

# Fuzzed traffic at scale through `check` and the live proxy; the figures are quoted in docs/check.md.
fuzz: $(BIN)/.installed
	$(BIN)/python -m tests.fuzz_run

rules-doc: $(BIN)/.installed
	$(BIN)/python -m ocppscope.proxy.core.rulesdoc > docs/rules.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
