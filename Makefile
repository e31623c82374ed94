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

.PHONY: help reconcile venv tools-venv ministack-venv lint typecheck test test-unit test-contract test-integration test-infra \
        test-iam test-reliability bdd bench mutants mutants-fast docs docs-check asyncapi-check node-tools bindings examples \
        package package-check tf-fmt tf-validate tf-test checkov tf-check \
        emulator emulator-stop deploy-local deploy seed check doctor dev demo invoke clean

help: ## List the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-zA-Z_-]+:.*## /{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.stamp: pyproject.toml
	@echo ">> creating $(VENV) and installing the project with its dev dependencies"
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e '.[dev]'
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
	$(VENV)/bin/ruff check lambda_src tests tools
	$(VENV)/bin/ruff format --check lambda_src tests tools

typecheck: venv ## mypy --strict over lambda_src
	$(VENV)/bin/mypy

package: venv ## Build build/lambda.zip, deployed to every function (Lambda python3.12, x86_64)
	$(PY) tools/build_lambda.py --out $(BUILD_DIR)

package-check: package ## Run the packaged handlers from build/lambda.zip on Python 3.12, the Lambda runtime's
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
	@$(BINDINGS_VENV)/bin/python -m pip install -q 'datamodel-code-generator==0.89.0' 'pydantic>=2.6,<3'
	@touch $@

$(BINDINGS_JS)/node_modules/.stamp: $(BINDINGS_JS)/package.json $(BINDINGS_JS)/package-lock.json
	cd $(BINDINGS_JS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bindings: docs-check $(BINDINGS_VENV)/.stamp $(BINDINGS_JS)/node_modules/.stamp ## Typed Python + TypeScript bindings of every event in build/bindings, round-tripped against every valid example
	$(BINDINGS_VENV)/bin/python tools/gen_bindings.py --out $(BUILD_DIR)/bindings

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

tf-check: tf-fmt tf-validate tf-test checkov ## All static Terraform checks

test-infra: venv package ## Apply envs/local into a fresh moto server and read it back
	$(PY) -m pytest tests/infra -q

test-iam: venv package ## Each role as applied vs the AWS calls the code makes (tests/zz_iam, own apply into moto)
	$(PY) -m pytest tests/zz_iam -q

bdd: venv package $(EMULATOR_DEPS) ## Behaviour suite (features/) against EMULATOR (its own instance, free port)
	$(PY) -m pytest tests/bdd -q -rs

test-reliability: venv ## Full reliability matrix (state machine, faults, load, leak scan)
	RELIABILITY_PROFILE=full $(PY) -m pytest tests/reliability -q

mutants: venv ## Remove each guarded property in a copy; every mutant must turn a suite red (tools/mutants.py)
	$(PY) tools/mutants.py

mutants-fast: venv ## The mutants against the tests named for each (part of make test)
	$(PY) tools/mutants.py --fast

bench: venv package ## Performance benchmarks (Lambda rows on Python 3.12 from the zip), same-run baselines -> docs/performance.md
	$(PY) tests/bench/run_all.py --write docs/performance.md

test: venv package package-check tf-check lint typecheck docs-check asyncapi-check bindings mutants-fast $(MINISTACK_VENV)/.stamp ## Everything CI runs: lint, types, docs, Terraform checks, all test suites, bdd on moto and on MiniStack
	@mkdir -p $(BUILD_DIR)
	@echo ">> the behaviour suite on MiniStack runs beside the moto suites (it mostly waits on visibility timeouts); its report follows theirs ($(BUILD_DIR)/bdd-ministack.log)"
	@EMULATOR=ministack $(PY) -m pytest tests/bdd -q -rs > $(BUILD_DIR)/bdd-ministack.log 2>&1 & ms=$$!; \
	EMULATOR=moto $(PY) -m pytest tests; moto=$$?; \
	wait $$ms; ministack=$$?; \
	echo ">> behaviour suite on MiniStack (exit $$ministack):"; cat $(BUILD_DIR)/bdd-ministack.log; \
	test $$moto -eq 0 && test $$ministack -eq 0

emulator: venv $(EMULATOR_DEPS) ## Start EMULATOR on $(EMULATOR_HOST):$(EMULATOR_PORT) and the local Stripe on $(STRIPE_PORT) (.run/)
	$(DEVSTACK) emulator start --emulator $(EMULATOR) --host $(EMULATOR_HOST) --port $(EMULATOR_PORT) --run-dir $(RUN_DIR)
	$(DEVSTACK) stripe start --port $(STRIPE_PORT) --run-dir $(RUN_DIR)

emulator-stop: venv ## Stop the emulator, the local Stripe and the local Lambda service
	-$(DEVSTACK) dev stop --run-dir $(RUN_DIR)
	-$(DEVSTACK) stripe stop --run-dir $(RUN_DIR)
	$(DEVSTACK) emulator stop --emulator $(EMULATOR) --run-dir $(RUN_DIR)

deploy-local: venv package ## terraform apply envs/local into the running emulator
	$(TF) apply-local

deploy: package ## Deploy terraform/envs/aws to AWS: package, init with backend.hcl, plan, confirm, apply
	$(TF) deploy-aws

seed: venv ## Put the sample events from events/ on the bus
	$(DEVSTACK) seed

check: venv ## Print payment and refund records
	$(DEVSTACK) check

doctor: venv ## One pass/fail line per health check of the local stack
	$(DEVSTACK) doctor --run-dir $(RUN_DIR)

dev: emulator deploy-local ## Start emulator + apply + local Lambda service + seed + doctor
	$(DEVSTACK) dev start --run-dir $(RUN_DIR)
	$(DEVSTACK) seed
	$(DEVSTACK) doctor --run-dir $(RUN_DIR)

demo: venv package $(EMULATOR_DEPS) ## Main job: emulator, terraform apply, orders through every path, summary table
	$(DEVSTACK) demo --run-dir $(RUN_DIR) --stripe-port $(STRIPE_PORT)

reconcile: venv ## One reconciliation pass now against the running local stack (what the 5-minute schedule does)
	$(DEVSTACK) reconcile

.PHONY: redrive replay
redrive: venv ## Move dead letters back to their queue: QUEUE=payment|refund [DRY_RUN=1] (shows count and ages first; docs/runbook.md)
	$(PY) tools/ops.py redrive --queue "$(QUEUE)" $(if $(filter 1 yes true,$(DRY_RUN)),--dry-run)

replay: venv ## Replay published events FROM=... TO=... (ISO 8601) from the EventBridge archive to the bus (docs/runbook.md)
	$(PY) tools/ops.py replay --from "$(FROM)" --to "$(TO)"

invoke: venv ## Run a handler locally on EVENT=events/<file>.json through python-lambda-local
	$(DEVSTACK) invoke $(EVENT)

clean: ## Remove build output and local run state
	rm -rf $(BUILD_DIR) $(RUN_DIR) .pytest_cache .mypy_cache .ruff_cache
