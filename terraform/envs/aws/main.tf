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

module "service" {
  source = "../../modules/service"

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
  gateway_mode           = "simulated"
  alarm_topic_arn        = var.alarm_topic_arn

  deletion_protection         = true
  kms_deletion_window_in_days = 30
  enable_schema_registry      = var.enable_schema_registry
  enable_audit_tap            = var.enable_audit_tap
}
