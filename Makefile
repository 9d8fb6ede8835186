# IPSPC Referrals. `make local` runs the whole service on this machine; `make test` runs every test.
# Each target installs what it needs, and is quiet when it already is.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
NPM     ?= npm
JAVA    ?= java
# Tests get their own emulator ports (0 = any free port) so they can run beside `make local`.
TEST_DYNAMODB_PORT ?= 0
TEST_SES_PORT      ?= 0

NODE_STAMP := node_modules/.installed
GO_STAMP   := .local/go-mod.stamp

.PHONY: help local test test-unit deps tools-check go-deps node-deps fmt vet clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

local: deps ## Run the whole service locally, seeded (HTTP API :3000, Lambda invoke :3001, DynamoDB :8000, SES :8005)
	@$(GO) build -o .local/bin/local ./infra/cmd/local
	@exec .local/bin/local

test: deps ## Run every test (unit, store, end-to-end) against DynamoDB Local and the SES emulator
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt would change:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	DYNAMODB_PORT=$(TEST_DYNAMODB_PORT) SES_PORT=$(TEST_SES_PORT) \
		$(GO) run ./infra/cmd/local -emulators-only -- $(GO) test -count=1 -timeout 12m ./...

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

fmt: ## Format the Go code
	gofmt -w $$(git ls-files '*.go')

clean: ## Remove build output and installed tools
	rm -rf .local .aws-sam artifacts node_modules
