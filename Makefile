# Mercator: two commands matter — `make demo` (install + run everything locally) and `make test`.
SHELL := /bin/bash
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
RUN := $(UV) run --frozen

.PHONY: demo test bench install up ui down status docs lint format clean

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5'

install: $(if $(shell command -v uv 2>/dev/null),,$(TOOLS)/bin/uv)
	$(UV) sync --frozen

demo: install
	$(RUN) mercator demo

# The tests, then every benchmark once at a tiny size (a smoke run: a broken benchmark fails here).
test: install
	$(RUN) lint-imports
	$(RUN) pytest -m "not bench"
	MERCATOR_BENCH_SIZE=smoke $(RUN) pytest -m bench tests/bench

bench: install
	$(RUN) pytest -m bench -s tests/bench

up: install
	$(RUN) mercator up --ui

down:
	$(RUN) mercator down

status:
	$(RUN) mercator status

docs: install
	$(RUN) mercator docs

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) lint-imports

format: install
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

clean: down
	rm -rf .mercator
