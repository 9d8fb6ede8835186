# IPSPC Referrals. `make local` runs the whole service on this machine; `make test` runs every test.
# Each target installs what it needs, and is quiet when it already is.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
NPM     ?= npm
JAVA    ?= java
# Flags for the local stack, e.g. LOCAL_FLAGS='-schedule-speedup 60 -dbPath .local/db'.
LOCAL_FLAGS ?=
# Tests get their own emulator ports (0 = any free port) so they can run beside `make local`.
TEST_DYNAMODB_PORT ?= 0
TEST_SES_PORT      ?= 0

NODE_STAMP := node_modules/.installed
GO_STAMP   := .local/go-mod.stamp
VENV       := .venv
VENV_STAMP := $(VENV)/.installed
# sam build's go1.x builder honours these: static, stripped arm64 binaries without the RPC shim.
SAM_BUILD_ENV := CGO_ENABLED=0 GOFLAGS='-tags=lambda.norpc -trimpath "-ldflags=-s -w"'

.PHONY: help local test test-unit deps tools-check go-deps node-deps venv browser-deps lint api-check sam-build fmt vet clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

local: deps ## Run the whole service locally, seeded (HTTP API :3000, Lambda invoke :3001, DynamoDB :8000, SES :8005)
	@$(GO) build -o .local/bin/local ./infra/cmd/local
	@exec .local/bin/local $(LOCAL_FLAGS)

test: deps venv browser-deps ## Run every test: lint, sam build, unit, store, end-to-end and browser tests
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(MAKE) --no-print-directory lint sam-build
	DYNAMODB_PORT=$(TEST_DYNAMODB_PORT) SES_PORT=$(TEST_SES_PORT) \
		$(GO) run ./infra/cmd/local -emulators-only -- env IPSPC_MAKE_TEST=1 $(GO) test -count=1 -timeout 12m ./...

test-unit: go-deps ## Run only the tests that need no emulator (store and end-to-end tests skip)
	$(GO) test -count=1 ./...

deps: tools-check go-deps node-deps

tools-check:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 (https://go.dev/dl/)"; exit 1; }
	@command -v node >/dev/null && command -v $(NPM) >/dev/null || { echo "Node.js 20 and npm are missing: apt-get install -y nodejs npm"; exit 1; }
	@command -v $(JAVA) >/dev/null || { echo "Java 17 is missing (DynamoDB Local needs it): apt-get install -y openjdk-17-jre-headless"; exit 1; }

go-deps: $(GO_STAMP)
$(GO_STAMP): go.mod go.sum
	@mkdir -p $(@D)
	@echo "Downloading Go modules…"
	$(GO) mod download
	@touch $@

node-deps: $(NODE_STAMP)
# npm ci installs exactly the lock file: DynamoDB Local (inside amplify-dynamodb-simulator), the SES
# emulator, nhsuk-frontend and axe-core.
$(NODE_STAMP): package.json package-lock.json
	@echo "Installing npm packages (DynamoDB Local, SES emulator, NHS.UK frontend)…"
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(VENV_STAMP)
$(VENV_STAMP): requirements-dev.txt
	@command -v python3 >/dev/null || { echo "Python 3 is missing: apt-get install -y python3 python3-venv"; exit 1; }
	@echo "Installing the SAM CLI, cfn-lint, openapi-spec-validator and schemathesis into $(VENV) (about a minute, once)…"
	@python3 -m venv $(VENV) || { echo "python3 -m venv failed: apt-get install -y python3-venv"; exit 1; }
	@$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# Debian's Chromium drives the browser and accessibility tests.
browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing Chromium for the browser tests (about a minute, once)…"; \
			apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "Chromium is missing: sudo apt-get install -y chromium chromium-driver"; exit 1; fi; }

lint: venv ## Lint template.yaml (cfn-lint) and docs/openapi.yaml (openapi-spec-validator)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/openapi-spec-validator docs/openapi.yaml

api-check: deps venv ## Check the intake against docs/openapi.yaml with schemathesis (fixed seed; part of make test)
	DYNAMODB_PORT=$(TEST_DYNAMODB_PORT) SES_PORT=$(TEST_SES_PORT) \
		$(GO) run ./infra/cmd/local -emulators-only -- env IPSPC_MAKE_TEST=1 $(GO) test -count=1 -v ./infra/apicheck

sam-build: venv ## sam build: arm64 bootstrap binaries for every function, as deployed
	@mkdir -p .local
	$(SAM_BUILD_ENV) $(VENV)/bin/sam build --parallel >/dev/null 2>.local/sam-build.log || { cat .local/sam-build.log; exit 1; }
	@ls -l .aws-sam/build/*/bootstrap | awk '{printf "  %-60s %6.1f MB\n", $$NF, $$5/1048576}'

fmt: ## Format the Go code
	gofmt -w $$(git ls-files '*.go')

clean: ## Remove build output and installed tools
	rm -rf .local .aws-sam artifacts node_modules

.PHONY: bench fuzz

# How long `make fuzz` runs each fuzz target.
FUZZTIME ?= 30s

bench: deps ## Measure latency, capacity, cold start, size and throughput against their targets; writes docs/benchmarks.md
	DYNAMODB_PORT=$(TEST_DYNAMODB_PORT) SES_PORT=$(TEST_SES_PORT) \
		$(GO) run ./infra/cmd/local -emulators-only -- \
		env IPSPC_BENCH=1 $(GO) test -count=1 -timeout 30m -run '^TestBench$$' -v ./infra/bench

fuzz: go-deps ## Run every fuzz target for FUZZTIME each (default 30s), one after another; stops at the first crash
	@for target in $$(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' shared functions infra \
			| sed -E 's|^(.*)/[^/]+:func (Fuzz[A-Za-z0-9_]*)$$|\1:\2|' | sort); do \
		pkg=$${target%%:*}; name=$${target##*:}; \
		echo "== $$name (./$$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$pkg || exit 1; \
	done
