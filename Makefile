# Two commands for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint install install-test bench clean

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv || true
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install -q --python $(BIN)/python -e .; \
	else $(BIN)/python -m pip install -q --disable-pip-version-check -e .; fi
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install -q --python $(BIN)/python -e '.[test]'; \
	else $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'; fi
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/tepat demo

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy

test: $(VENV)/.installed-test
	scripts/test.sh

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py

clean:
	rm -rf var .mypy_cache .ruff_cache .hypothesis
