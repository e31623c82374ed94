# NovaMart Payments — every developer and CI command. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BIN ?= python3.11
VENV       := .venv
PY         := $(VENV)/bin/python
TOOLS_VENV := .venv-tools
RUN_DIR    := .run
BUILD_DIR  := build
# Pinned Node tools (AsyncAPI parser, Modelina): installed from tools/contract-js/package-lock.json by npm ci.
NODE_TOOLS := tools/contract-js
# make bindings: datamodel-code-generator in a venv of its own, json-schema-to-typescript + tsc from npm ci.
BINDINGS_VENV := .venv-bindings
BINDINGS_JS   := tools/bindings-js
# make docs-site: MkDocs and Playwright (driving the Debian chromium) in a venv of their own; the base URL the site
# is published at (the schemas' $ids live under it).
DOCS_VENV     := .venv-docs
DOCS_BASE_URL ?= https://schemas.novamart.example/
# The emulator of the dev targets: moto (default; the local Lambda service runs the functions), ministack (runs
# them itself, no Docker) or localstack (runs them in Docker; you start it). Tests start their own on a free port.
export EMULATOR ?= moto
ifeq ($(filter $(EMULATOR),moto ministack localstack),)
$(error EMULATOR=$(EMULATOR): expected moto, ministack or localstack)
endif
MINISTACK_VENV := .venv-ministack
EMULATOR_DEPS := $(if $(filter ministack,$(EMULATOR)),$(MINISTACK_VENV)/.stamp)
EMULATOR_HOST ?= 127.0.0.1
EMULATOR_PORT ?= 4566
# One source of truth for the endpoint: EMULATOR_HOST/EMULATOR_PORT. An AWS_ENDPOINT_URL exported in the shell
# used to win here while the emulator started on EMULATOR_PORT; now the port setting wins, and says so.
ENDPOINT := http://$(EMULATOR_HOST):$(EMULATOR_PORT)
ifeq ($(origin AWS_ENDPOINT_URL),environment)
ifneq ($(AWS_ENDPOINT_URL),$(ENDPOINT))
$(warning AWS_ENDPOINT_URL=$(AWS_ENDPOINT_URL) from your shell is ignored: make uses $(ENDPOINT) from EMULATOR_HOST/EMULATOR_PORT (pass EMULATOR_PORT=... to change it))
endif
endif
export AWS_ENDPOINT_URL := $(ENDPOINT)
export AWS_REGION ?= us-east-2
export AWS_DEFAULT_REGION ?= $(AWS_REGION)
export AWS_ACCESS_KEY_ID ?= test
export AWS_SECRET_ACCESS_KEY ?= test
# The local Stripe (localstripe behind its fault proxy) the functions of envs/local charge through.
STRIPE_PORT ?= 8420
export TF_VAR_stripe_api_base ?= http://127.0.0.1:$(STRIPE_PORT)
# The local state lives with the rest of the run state, so that RUN_DIR=... keeps two local stacks apart.
export TF_LOCAL_STATE ?= $(RUN_DIR)/terraform-local.tfstate
EVENT ?= events/order-placed.json
TF := ./tools/tf.sh
# The dev tooling's one command line (tools/devstack/, `$(PY) -m tools.devstack --help`).
DEVSTACK = $(PY) -m tools.devstack

.PHONY: help reconcile events pay stripe-outage test-newcomer deploy-preflight venv tools-venv ministack-venv lint typecheck test test-unit test-contract test-integration test-infra \
        test-iam test-reliability test-decisions rehearsal bdd bench mutants mutants-fast docs docs-check asyncapi-check node-tools bindings examples pacts pacts-verify docs-site chromium \
        package package-check tf-fmt tf-validate tf-test checkov tf-check \
        emulator emulator-stop deploy-local deploy seed check doctor dev demo invoke clean
# make help: its groups, in this order (a target named in none is listed under "internals").
HELP_START  := demo dev seed events pay stripe-outage check doctor invoke reconcile redrive replay emulator emulator-stop clean
HELP_TEST   := test test-unit test-contract test-integration test-infra test-iam test-reliability test-newcomer rehearsal bdd \
               mutants mutants-fast lint typecheck docs-check asyncapi-check bindings pacts-verify docs-site package-check tf-check bench load test-decisions
HELP_DEPLOY := deploy deploy-preflight deploy-local package

help: ## List the targets by group (colour only on a terminal)
	@colour=0; [ -t 1 ] && colour=1; awk -v colour=$$colour -v start="$(HELP_START)" -v test="$(HELP_TEST)" \
	  -v deploy="$(HELP_DEPLOY)" -f tools/make_help.awk $(MAKEFILE_LIST)

$(VENV)/.stamp: pyproject.toml
	@echo ">> creating $(VENV) and installing the project with its dev dependencies (1-2 minutes; pip's output in $(VENV)/pip.log)"
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	@{ $(PY) -m pip install -q --upgrade pip && $(PY) -m pip install -q -e '.[dev]'; } > $(VENV)/pip.log 2>&1 \
	  || { tail -n 30 $(VENV)/pip.log; echo "pip failed: the whole output is in $(VENV)/pip.log"; exit 1; }
	@touch $@

venv: $(VENV)/.stamp ## Create .venv with runtime + dev dependencies

$(MINISTACK_VENV)/.stamp: tools/devstack/ministack.py | $(VENV)/.stamp
	@$(DEVSTACK) emulator venv --emulator ministack --venv $(MINISTACK_VENV)

ministack-venv: $(MINISTACK_VENV)/.stamp ## Create .venv-ministack (Python 3.12 + MiniStack) for EMULATOR=ministack

$(TOOLS_VENV)/.stamp:
	@echo ">> creating $(TOOLS_VENV) for checkov (its pins clash with boto3, so it lives apart)"
	@test -x $(TOOLS_VENV)/bin/python || $(PYTHON_BIN) -m venv $(TOOLS_VENV)
	@$(TOOLS_VENV)/bin/python -m pip install -q 'checkov>=3.2,<4'
	@touch $@

tools-venv: $(TOOLS_VENV)/.stamp

lint: venv ## ruff over the Python sources
	$(VENV)/bin/ruff check lambda_src tests tools contracts
	$(VENV)/bin/ruff format --check lambda_src tests tools contracts

typecheck: venv ## mypy --strict over lambda_src
	$(VENV)/bin/mypy

package: venv ## Build build/lambda.zip, deployed to every function (Lambda python3.12, x86_64)
	$(PY) tools/build_lambda.py --out $(BUILD_DIR)

package-check: package ## Run the packaged handlers from build/lambda.zip on Python 3.12 (the Lambda runtime), simulated and Stripe gateways
	$(PY) tools/package_smoke.py

docs: venv ## Regenerate the event catalogue and the AsyncAPI document in docs/
	$(PY) tools/gen_docs.py

examples: venv ## Rewrite the local-run examples of the published events (real handlers against in-process moto)
	$(PY) tools/capture_examples.py

docs-check: venv ## Fail when the committed docs differ from what `make docs` would write
	$(PY) tools/gen_docs.py --check

$(NODE_TOOLS)/node_modules/.stamp: $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	@echo ">> installing the pinned Node contract tools into $(NODE_TOOLS)/node_modules (npm ci)"
	cd $(NODE_TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-tools: $(NODE_TOOLS)/node_modules/.stamp

asyncapi-check: node-tools ## Official AsyncAPI parser over docs/asyncapi.yaml; TypeScript generation must name every model
	node $(NODE_TOOLS)/check-asyncapi.mjs docs/asyncapi.yaml

$(BINDINGS_VENV)/.stamp:
	@echo ">> creating $(BINDINGS_VENV) for datamodel-code-generator (kept apart from the service's dependencies)"
	@test -x $(BINDINGS_VENV)/bin/python || $(PYTHON_BIN) -m venv $(BINDINGS_VENV)
	@$(BINDINGS_VENV)/bin/python -m pip install -q 'datamodel-code-generator==0.89.0' 'pydantic>=2.6,<3' \
		'jsonschema[format-nongpl]>=4.21,<5' setuptools wheel
	@touch $@

$(BINDINGS_JS)/node_modules/.stamp: $(BINDINGS_JS)/package.json $(BINDINGS_JS)/package-lock.json
	cd $(BINDINGS_JS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bindings: docs-check $(BINDINGS_VENV)/.stamp $(BINDINGS_JS)/node_modules/.stamp ## A wheel and an npm package of every event's types, schemas and validate() in build/bindings/dist (version from the schemas)
	$(BINDINGS_VENV)/bin/python tools/gen_bindings.py --out $(BUILD_DIR)/bindings

pacts: venv ## Run the consumer tests of contracts/consumers and write their Pact files into contracts/pacts/
	$(PY) tools/pacts.py write

pacts-verify: venv ## Verify the service against every consumer's pact (messages from the real publisher; in make test)
	$(PY) tools/pacts.py verify

$(DOCS_VENV)/.stamp:
	@echo ">> creating $(DOCS_VENV) for MkDocs and Playwright (the browser is the Debian chromium package)"
	@test -x $(DOCS_VENV)/bin/python || $(PYTHON_BIN) -m venv $(DOCS_VENV)
	@$(DOCS_VENV)/bin/python -m pip install -q 'mkdocs==1.6.1' 'playwright==1.65.2'
	@touch $@

chromium: ## Install the Debian chromium package when it is missing (the docs-site browser check needs it)
	@command -v chromium >/dev/null || { echo ">> installing chromium (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

docs-site: docs-check $(DOCS_VENV)/.stamp chromium ## Schema site in build/site (MkDocs; schemas at their $$id paths under DOCS_BASE_URL), checked in headless Chromium
	$(DOCS_VENV)/bin/python tools/docs_site.py --out $(BUILD_DIR)/site --base-url $(DOCS_BASE_URL)
	$(DOCS_VENV)/bin/python tools/site_check.py --site $(BUILD_DIR)/site --screenshot $(BUILD_DIR)/site-screenshot.png

test-unit: venv ## Unit tests (no AWS)
	$(PY) -m pytest tests/unit -q

test-contract: venv ## Contract tests over schemas/
	$(PY) -m pytest tests/contract -q

test-integration: venv ## Handler tests against an in-process moto server
	$(PY) -m pytest tests/integration -q

tf-fmt: ## terraform fmt -check over terraform/
	$(TF) tf fmt -check -recursive terraform

tf-validate: ## terraform validate for every environment
	$(TF) validate-all

tf-test: ## terraform test (mock_provider) for every module with tests
	$(TF) test-all

CHECKOV := $(TOOLS_VENV)/bin/checkov --quiet --compact --skip-download --framework terraform --skip-path '\.terraform'
checkov: tools-venv ## checkov over terraform/ (skips carry reasons in the code); envs/aws with code signing checked
	$(CHECKOV) -d terraform/envs/aws
	@# CKV_AWS_272 (code signing) is skipped only outside envs/aws: the emulator has no AWS Signer, and the shared
	@# modules are checked through envs/aws above, where the code signing configuration is attached.
	$(CHECKOV) -d terraform --skip-path 'envs/aws' --skip-check CKV_AWS_272

tf-check: ## All static Terraform checks (one after another: validate and test share each folder's .terraform)
	@$(MAKE) --no-print-directory -j1 tf-fmt tf-validate tf-test checkov

test-infra: venv package ## Apply envs/local into a fresh moto server and read it back
	$(PY) -m pytest tests/infra -q

test-iam: venv package ## Each role as applied vs the AWS calls the code makes (tests/iam_policies, own apply into moto)
	$(PY) -m pytest tests/iam_policies -q

rehearsal: venv package $(MINISTACK_VENV)/.stamp ## envs/aws (S3 backend, artifacts, HTTP API, ...) applied into a fresh MiniStack with the rehearsal variables (tests/rehearsal)
	$(PY) -m pytest tests/rehearsal -q -rs

bdd: venv package $(EMULATOR_DEPS) ## Behaviour suite (features/) against EMULATOR (its own instance, free port)
	$(PY) -m pytest tests/bdd -q -rs

test-reliability: venv ## Full reliability matrix (state machine, faults, load, leak scan)
	RELIABILITY_PROFILE=full $(PY) -m pytest tests/reliability -q

# make mutants: mutants run side by side, each against its own emulator (the 2 cores here: about half an hour).
MUTANT_JOBS ?= 2
mutants: venv ## Remove each guarded property in a copy; every mutant must turn a suite red (tools/mutants.py; MUTANT_JOBS side by side, default 2)
	$(PY) tools/mutants.py --jobs $(MUTANT_JOBS)

mutants-fast: venv ## The mutants against the tests named for each (part of make test)
	$(PY) tools/mutants.py --fast

bench: venv package ## Performance benchmarks (Lambda rows on Python 3.12 from the zip), same-run baselines -> docs/performance.md
	$(PY) tests/bench/run_all.py --write docs/performance.md

# What make test checks before the moto suites (tools/test_all.sh runs them two at a time beside the waiting suites).
TEST_CHECKS := package-check tf-check lint typecheck docs-check asyncapi-check bindings docs-site mutants-fast

test: venv package $(MINISTACK_VENV)/.stamp ## Everything CI runs: lint, types, docs, schema site, Terraform checks, all test suites, bdd on moto and on MiniStack, the envs/aws rehearsal, the newcomer session
	@PY=$(PY) BUILD_DIR=$(BUILD_DIR) CHECKS="$(TEST_CHECKS)" MAKE="$(MAKE)" bash tools/test_all.sh

test-newcomer: venv ## A newcomer's first hour through the Make targets, in a fresh copy on free ports (part of make test)
	$(PY) -m pytest tests/newcomer -q -rs

test-decisions: venv ## The service's decisions on in-memory ports: no emulator, no network, seconds (part of make test)
	$(PY) -m pytest tests/decisions -q

emulator: venv $(EMULATOR_DEPS) ## Start EMULATOR on EMULATOR_HOST:EMULATOR_PORT (127.0.0.1:4566) and the local Stripe on STRIPE_PORT (8420), state in RUN_DIR (.run)
	$(DEVSTACK) emulator start --emulator $(EMULATOR) --host $(EMULATOR_HOST) --port $(EMULATOR_PORT) --run-dir $(RUN_DIR)
	$(DEVSTACK) stripe start --port $(STRIPE_PORT) --run-dir $(RUN_DIR)

emulator-stop: venv ## Stop the local Lambda service, the local Stripe and the emulator (also when their pid files are gone)
	$(DEVSTACK) stop --run-dir $(RUN_DIR) --emulator $(EMULATOR) --port $(EMULATOR_PORT) --stripe-port $(STRIPE_PORT)

deploy-local: venv package ## terraform apply envs/local into the running emulator
	$(TF) apply-local

deploy: deploy-preflight package ## Deploy terraform/envs/aws to AWS: offline checks first, then package, preflight, sign the zip (AWS Signer), plan, concurrency check, confirm, apply; prints the next go-live step (docs/go-live.md)
	$(PY) -m tools.deploy

deploy-preflight: ## What make deploy needs before it builds anything: backend.hcl without placeholders, AWS credentials
	@$(TF) preflight-aws

seed: venv ## Put the sample events from events/ on the bus
	$(DEVSTACK) seed

check: venv ## Print payment and refund records
	@$(DEVSTACK) check

doctor: venv ## One pass/fail line per health check of the local stack
	$(DEVSTACK) doctor --run-dir $(RUN_DIR)

dev: venv package $(EMULATOR_DEPS) ## Start here: emulator + local Stripe + apply + local Lambda service + seed + doctor, short progress (full log in RUN_DIR)
	@$(DEVSTACK) up --run-dir $(RUN_DIR) --stripe-port $(STRIPE_PORT)

demo: venv package $(EMULATOR_DEPS) ## Main job: emulator, terraform apply, orders through every path, summary table
	$(DEVSTACK) demo --run-dir $(RUN_DIR) --stripe-port $(STRIPE_PORT)

reconcile: venv ## One reconciliation pass now against the running local stack (what the 5-minute schedule does)
	$(DEVSTACK) reconcile

.PHONY: redrive replay
redrive: venv ## Move dead letters back to their queue: QUEUE=payment|refund [DRY_RUN=1] (shows count and ages first; docs/runbook.md)
	$(PY) tools/ops.py redrive --queue "$(QUEUE)" $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run)

replay: venv ## Replay published events FROM=... TO=... (ISO 8601) from the EventBridge archive to the bus (docs/runbook.md)
	$(PY) tools/ops.py replay --from "$(FROM)" --to "$(TO)"

invoke: venv ## Run the deployed function's handler on EVENT=events/<file>.json (ORDER=<id>: as that order) via python-lambda-local, on the stack's tables and local Stripe
	$(DEVSTACK) invoke $(EVENT) $(if $(ORDER),--order $(ORDER))

events: venv ## What the service published, as a table (FOLLOW=1 keeps printing new events; ORDER=<id> for one order)
	@$(DEVSTACK) events --run-dir $(RUN_DIR) $(if $(FOLLOW),--follow) $(if $(ORDER),--order $(ORDER))

CARD ?= visa
pay: venv ## One payment through the bus with a Stripe test card: CARD=visa|mastercard|declined|three_d_secure|pending_refund|disputed or a test card number
	@$(DEVSTACK) pay $(EVENT) --card $(CARD) $(if $(ORDER),--order $(ORDER))

N ?= 3
STATUS ?= 503
stripe-outage: venv ## The local Stripe fails its next N=3 requests with STATUS=503 (0: dropped connection), then recovers; CLEAR=1 ends it
	@$(DEVSTACK) outage --requests $(N) --status $(STATUS) --stripe-port $(STRIPE_PORT) $(if $(ORDER),--order $(ORDER)) $(if $(CLEAR),--clear)

clean: ## Stop the local stack if it runs, then remove build output and local run state
	@if [ -x $(PY) ]; then $(DEVSTACK) stop --run-dir $(RUN_DIR) --emulator $(EMULATOR) --port $(EMULATOR_PORT) --stripe-port $(STRIPE_PORT) || exit 1; fi
	rm -rf $(BUILD_DIR) $(RUN_DIR) .pytest_cache .mypy_cache .ruff_cache

.PHONY: load
# make load: orders per pass, where the functions run (ministack; moto: the local Lambda service in concurrent mode),
# and the local stack's gateway budget for the run: its Terraform variable, 10/s unless set (what these 2-core
# machines drive with five invocations per mapping; docs/performance.md, "Load").
LOAD_ORDERS ?= 60
LOAD_EMULATOR ?= ministack
load: venv package $(MINISTACK_VENV)/.stamp ## Burst on a fresh MiniStack vs a Stripe-like gateway (300 ms, 429 limiter, 5 % 500s): fault-free + faulted pass of LOAD_ORDERS=60, report -> docs/performance.md
	TF_VAR_gateway_budget_per_second=$${TF_VAR_gateway_budget_per_second:-10} $(DEVSTACK) load --orders $(LOAD_ORDERS) \
	  --emulator $(LOAD_EMULATOR) --port $(EMULATOR_PORT) --stripe-port $(STRIPE_PORT) --run-dir $(RUN_DIR) \
	  --write docs/performance.md
