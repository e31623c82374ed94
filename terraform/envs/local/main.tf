# Local environment: the whole stack inside the moto server emulator.
#
# Credentials are never written here: the provider reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
# from the environment (the Makefile and tools/tf.sh export the emulator's dummy "test" pair).
# Every endpoint points at the emulator, so this configuration cannot reach a real account.
provider "aws" {
  region                      = var.region
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    cloudwatch = var.emulator_url
    dynamodb   = var.emulator_url
    events     = var.emulator_url
    iam        = var.emulator_url
    kms        = var.emulator_url
    lambda     = var.emulator_url
    logs       = var.emulator_url
    schemas    = var.emulator_url
    sns        = var.emulator_url
    sqs        = var.emulator_url
    sts        = var.emulator_url
  }
}

locals {
  repo_root = "${path.module}/../../.."
}

module "service" {
  source = "../../modules/service"

  alarm_subscriptions    = var.alarm_subscriptions
  event_bus_name         = var.event_bus_name
  payment_table_name     = "payments"
  refund_table_name      = "refunds"
  payment_function_name  = "novamart-payment-handler"
  refund_function_name   = "novamart-refund-handler"
  package_path           = coalesce(var.package_path, "${local.repo_root}/build/lambda.zip")
  schema_dir             = "${local.repo_root}/schemas/registry"
  lambda_timeout_seconds = var.lambda_timeout_seconds
  retry_schedule_seconds = var.retry_schedule_seconds
  retry_horizon_seconds  = var.retry_horizon_seconds
  # localstripe stands for a test-mode account: 25 requests/s, 80 % of it (make load sets its own: variables.tf).
  gateway_budget_per_second = var.gateway_budget_per_second
  # Not sized from the budget (20/s x 300 ms would give 6): these 2 cores run every function, and localstripe answers
  # in milliseconds, so the local Lambda service runs at most 5 invocations per mapping and the budget brakes the rest.
  maximum_concurrency  = 5
  reserved_concurrency = 10
  batch_size           = var.batch_size
  log_level            = var.log_level
  gateway_mode         = var.gateway_mode
  stripe_api_base      = var.stripe_api_base
  # localstripe accepts any sk_test_ key: this one is a placeholder, not a secret.
  stripe_test_key                = "sk_test_novamart_local"
  stripe_webhook_test_secret     = "whsec_novamart_local"
  secret_recovery_window_in_days = 0

  # Emulator switches: tear-down must work, moto has no Schemas API, and moto does not store a queue's
  # RedriveAllowPolicy (the provider would wait for it forever).
  deletion_protection         = false
  kms_deletion_window_in_days = 7
  enable_schema_registry      = false
  restrict_dlq_sources        = false
  enable_audit_tap            = var.enable_audit_tap
  # The emulators serve function URLs (the local Lambda service, MiniStack's /_aws/lambda-url/) and enforce no
  # resource policy; AWS gets the HTTP API (docs/gateway.md).
  webhook_endpoint_kind = "function_url"

  # Outcomes that arrive later, on a laptop's time scale: reconciliation looks at a PENDING payment after
  # 60 s (above the fast profile's redelivery horizon: 3 receives x 18 s), and a customer has
  # 15 s to authenticate, so the behaviour suite sees every path in seconds.
  # The risk check (docs/risk.md): the local rules block the demo's customer cus-fraud-demo; the limits are far
  # above what the suites and the demo send. A rules change is `make deploy-local` of this file, no code change.
  risk_rules                 = file("${path.module}/risk-rules.json")
  risk_rules_max_age_seconds = 5

  reconcile_pending_after_seconds = var.reconcile_pending_after_seconds
  reconcile_action_after_seconds  = var.reconcile_action_after_seconds
  action_deadline_seconds         = var.action_deadline_seconds

  # The per-call limits only when set (fast-redelivery.tfvars): unset, the functions use config.py's defaults.
  extra_environment = { for name, value in {
    AWS_CALL_TIMEOUT_SECONDS        = var.aws_call_timeout_seconds
    AWS_MAX_ATTEMPTS                = var.aws_max_attempts
    STRIPE_TIMEOUT_SECONDS          = var.stripe_timeout_seconds
    STRIPE_MAX_NETWORK_RETRIES      = var.stripe_max_network_retries
    GATEWAY_BUDGET_MAX_WAIT_SECONDS = var.gateway_budget_max_wait_seconds
  } : name => tostring(value) if value != null }
}
