# AWS environment: no endpoints, credentials from the usual provider chain (SSO, role, env),
# every protection on (deletion protection, PITR, CMK, schema registry, 30-day key window).
provider "aws" {
  region = var.region

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
}

# Every function runs only code signed by the allowed profiles (AWS Signer).
module "code_signing" {
  source = "../../modules/code_signing"

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
  log_level              = var.log_level
  # Always Stripe: the simulator's ledger lives in one process, so on a Lambda fleet it would publish
  # payment.succeeded for orders nobody charged. The service module refuses nothing; this root does.
  gateway_mode            = var.gateway_mode
  stripe_secret_name      = var.stripe_secret_name
  alarm_topic_arn         = var.alarm_topic_arn
  package_s3              = var.signed_package
  code_signing_config_arn = module.code_signing.code_signing_config_arn

  deletion_protection         = true
  kms_deletion_window_in_days = 30
  enable_schema_registry      = var.enable_schema_registry
  enable_audit_tap            = var.enable_audit_tap
}
