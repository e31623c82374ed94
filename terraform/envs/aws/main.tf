# AWS environment: no endpoints, credentials from the usual provider chain (SSO, role, env),
# every protection on (deletion protection, PITR, CMK, schema registry, 30-day key window).
# `rehearsal_endpoint` (CI only, tests/rehearsal) points every service at an emulator instead.
provider "aws" {
  region = var.region

  skip_credentials_validation = local.rehearsal
  skip_metadata_api_check     = local.rehearsal
  skip_region_validation      = local.rehearsal

  dynamic "endpoints" {
    for_each = local.rehearsal ? [var.rehearsal_endpoint] : []
    content {
      apigatewayv2   = endpoints.value
      cloudwatch     = endpoints.value
      dynamodb       = endpoints.value
      events         = endpoints.value
      iam            = endpoints.value
      kms            = endpoints.value
      lambda         = endpoints.value
      logs           = endpoints.value
      s3             = endpoints.value
      schemas        = endpoints.value
      secretsmanager = endpoints.value
      signer         = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      sts            = endpoints.value
    }
  }
  s3_use_path_style = local.rehearsal

  default_tags {
    tags = {
      service     = "novamart-payments"
      environment = var.environment
      managed-by  = "terraform"
    }
  }
}

locals {
  repo_root = "${path.module}/../../.."
  rehearsal = var.rehearsal_endpoint != null
}

# The versioned bucket make deploy uploads the zip to and AWS Signer signs it in (the first deploy creates it
# and the signing profile alone: docs/go-live.md).
module "artifacts" {
  source = "../../modules/artifacts"

  bucket_name   = var.artifact_bucket_name
  force_destroy = local.rehearsal
}

# Every function runs only code signed by the allowed profiles (AWS Signer).
module "code_signing" {
  source = "../../modules/code_signing"
  count  = var.enable_code_signing ? 1 : 0

  signing_profile_version_arns     = var.code_signing_profile_version_arns
  untrusted_artifact_on_deployment = var.code_signing_policy
}

module "service" {
  source = "../../modules/service"

  alarm_subscriptions    = var.alarm_subscriptions
  event_bus_name         = var.event_bus_name
  subscriber_account_ids = var.subscriber_account_ids
  payment_table_name     = var.payment_table_name
  refund_table_name      = var.refund_table_name
  payment_function_name  = var.payment_function_name
  refund_function_name   = var.refund_function_name
  package_path           = coalesce(var.package_path, "${local.repo_root}/build/lambda.zip")
  schema_dir             = "${local.repo_root}/schemas/registry"
  lambda_timeout_seconds = var.lambda_timeout_seconds
  reserved_concurrency   = var.reserved_concurrency
  maximum_concurrency    = var.maximum_concurrency
  # The mapping concurrency is sized from these two (modules/service: the concurrency local).
  gateway_budget_per_second  = var.gateway_budget_per_second
  gateway_request_latency_ms = var.gateway_request_latency_ms
  log_level                  = var.log_level
  # Always Stripe: the simulator's ledger lives in one process, so on a Lambda fleet it would publish
  # payment.succeeded for orders nobody charged. The service module refuses nothing; this root does.
  gateway_mode            = var.gateway_mode
  stripe_secret_name      = var.stripe_secret_name
  alarm_topic_arn         = var.alarm_topic_arn
  package_s3              = var.signed_package
  code_signing_config_arn = one(module.code_signing[*].code_signing_config_arn)
  webhook_endpoint_kind   = "http_api"

  deletion_protection         = true
  kms_deletion_window_in_days = 30
  enable_schema_registry      = var.enable_schema_registry
  enable_audit_tap            = var.enable_audit_tap
}

# Lambda refuses all four CreateFunction calls for an unsigned zip when the policy is Enforce, half-way through an
# apply: refuse the plan instead, saying what to run. A precondition (not a variable validation) so that the first
# deploy's bootstrap (`-target=module.artifacts -target=module.code_signing`, run by make deploy) can create the
# signing profile and the bucket before anything has been signed.
resource "terraform_data" "signed_package_gate" {
  input = var.signed_package

  lifecycle {
    precondition {
      condition     = !var.enable_code_signing || var.code_signing_policy != "Enforce" || var.signed_package != null
      error_message = "code_signing_policy = \"Enforce\" refuses an unsigned package, and signed_package is not set: run `make deploy` (it uploads build/lambda.zip to the artifacts bucket, signs it with the code_signing_profile_name profile and passes the signed object as signed_package; on a first deploy it creates the bucket and the profile first). See docs/go-live.md."
    }
  }
}

# A mapping allowed more invocations than its function reserves would see them throttled (and the poller's retries
# spent) instead of shaped: refuse the plan, whether the two were set or derived from the gateway budget.
resource "terraform_data" "concurrency_gate" {
  input = module.service.concurrency

  lifecycle {
    precondition {
      condition     = module.service.concurrency.maximum_concurrency <= module.service.concurrency.reserved_concurrency
      error_message = "The event-source mappings' maximum concurrency (${module.service.concurrency.maximum_concurrency}: set, or sized from gateway_budget_per_second x gateway_request_latency_ms) is above reserved_concurrency (${module.service.concurrency.reserved_concurrency}): raise reserved_concurrency (and the account's quota, docs/go-live.md) or lower the budget."
    }
  }
}
