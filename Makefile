# Mercator: two commands matter — `make demo` (install + run everything locally) and `make test`.
SHELL := /bin/bash
TOOLS := .tools
UV := $(shell command -v uv 2>/dev/null || echo $(TOOLS)/bin/uv)
RUN := $(UV) run --frozen

.PHONY: demo test bench install browser up ui down status docs lint format clean console

$(TOOLS)/bin/uv:
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check 'uv>=0.5'

install: $(if $(shell command -v uv 2>/dev/null),,$(TOOLS)/bin/uv) browser
	$(UV) sync --frozen

# Debian's chromium for the console's real-browser tests and screenshots (browsers cannot be downloaded).
CHROMIUM := /usr/bin/chromium
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo -n) env DEBIAN_FRONTEND=noninteractive apt-get
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium (missing at $(CHROMIUM))"; \
		$(APT_GET) update -q && $(APT_GET) install -y -q --no-install-recommends chromium; \
	fi

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

console: install
	$(RUN) python -m ops.console

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
