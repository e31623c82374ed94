# The whole payment service: key, tables, two functions with their routing, alarms, audit tap and
# schema registry. Both environments call this module; they differ only in provider settings and
# in the protection switches.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

data "aws_cloudwatch_event_bus" "this" {
  name = var.event_bus_name
}

locals {
  sqs_arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"

  # Who consumes what (docs/design.md). One entry per source with its detail-types.
  functions = {
    payment = {
      function_name = var.payment_function_name
      handler       = "novamart_payments.handlers.payment.handler"
      description   = "NovaMart: charges orders whose inventory is reserved"
      consumes = [
        { source = "novamart.inventory", detail_types = ["inventory.reserved"] },
        { source = "novamart.orders", detail_types = ["order.ready_for_payment"] },
      ]
      publishes = ["payment.succeeded", "payment.failed", "payment.action_required"]
      # The payment path claims, finishes and marks payments, and reads the payment again before publishing an
      # outcome (a stale answer must not speak: issue 24); it never reads a refund.
      tables = concat([
        { actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], tables = ["payments"] },
        { actions = ["dynamodb:UpdateItem"], tables = ["webhook_events"] },                    # the gateway request budget
      ], local.risk_enabled ? [{ actions = ["dynamodb:UpdateItem"], tables = ["risk"] }] : []) # counts each order once
      parameters = ["risk_rules"]
    }
    refund = {
      function_name = var.refund_function_name
      handler       = "novamart_payments.handlers.refund.handler"
      description   = "NovaMart: refunds cancelled orders and failed reservations"
      consumes = [
        { source = "novamart.inventory", detail_types = ["inventory.reservation_failed"] },
        { source = "novamart.orders", detail_types = ["order.cancelled"] },
      ]
      # An order that ends while its payment waits for the customer cancels that payment: payment.failed.
      publishes = ["refund.succeeded", "refund.failed", "payment.succeeded", "payment.failed"]
      # A refund decision reads both records (BatchGetItem, GetItem when throttled), reserves on the payment and
      # writes the refund (transactions are authorised per item: PutItem / UpdateItem), and blocks a payment.
      tables = [{
        actions = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        tables  = ["payments", "refunds"]
      }, { actions = ["dynamodb:UpdateItem"], tables = ["webhook_events"] }]
    }
  }

  # Outcomes that arrive later (docs/gateway.md): functions that no queue feeds.
  later_functions = {
    webhooks = {
      function_name = var.webhook_function_name
      handler       = "novamart_payments.handlers.webhooks.handler"
      description   = "NovaMart: Stripe webhooks (3-D Secure, refunds that settle later, disputes)"
      publishes     = ["payment.succeeded", "payment.failed", "payment.action_required", "payment.disputed", "refund.succeeded", "refund.failed"]
      # Reads the record a notice names and moves it forward; a failed refund gives its amount back to the payment
      # (a transaction: UpdateItem on both). Claims the Stripe event's id, marks it done or removes the claim (Powertools
      # Idempotency: PutItem with ReturnValuesOnConditionCheckFailure, so no GetItem; UpdateItem; DeleteItem).
      # An early fraud warning refunds like the refund function (issue 20): reads payment and refund together
      # (BatchGetItem), reserves and writes the refund (PutItem / UpdateItem).
      tables = [
        { actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"], tables = ["payments", "refunds"] },
        { actions = ["dynamodb:BatchGetItem"], tables = ["payments", "refunds"] },
        { actions = ["dynamodb:PutItem"], tables = ["refunds"] },
        { actions = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], tables = ["webhook_events"] },
      ]
      secrets = ["api_key", "webhook_signing"]
    }
    reconciler = {
      function_name = var.reconciler_function_name
      handler       = "novamart_payments.handlers.reconcile.handler"
      description   = "NovaMart: finishes payments and refunds stuck PENDING or waiting for the customer"
      publishes     = ["payment.succeeded", "payment.failed", "payment.action_required", "refund.succeeded", "refund.failed"]
      # Settles a refund like the webhook does: takes its gateway lease and moves it forward; a failed one gives
      # its amount back to the payment (a transaction: UpdateItem on both).
      tables = [
        { actions = ["dynamodb:GetItem", "dynamodb:UpdateItem"], tables = ["payments", "refunds"] },
        { actions = ["dynamodb:Query"], tables = ["unfinished_index", "refund_unfinished_index"] },
        { actions = ["dynamodb:UpdateItem"], tables = ["webhook_events"] }, # the gateway request budget
      ]
      secrets = ["api_key"]
    }
  }
  all_functions = merge(
    { for k, f in local.functions : k => merge(f, { secrets = ["api_key"] }) },
    local.later_functions,
  )
  table_arns = merge(module.tables.table_arns, {
    unfinished_index        = module.tables.unfinished_index_arn
    refund_unfinished_index = module.tables.refund_unfinished_index_arn
  }, local.risk_enabled ? { risk = module.risk[0].table_arn } : {})

  # The risk check (issue 20) runs when a rules document is given.
  risk_enabled   = var.risk_rules != null
  parameter_arns = local.risk_enabled ? { risk_rules = module.risk[0].parameter_arn } : {}
  risk_environment = merge(!local.risk_enabled ? {} : {
    RISK_RULES_PARAMETER_NAME  = module.risk[0].parameter_name
    RISK_TABLE_NAME            = module.risk[0].table_name
    RISK_RULES_MAX_AGE_SECONDS = tostring(var.risk_rules_max_age_seconds)
    }, var.risk_scorer == null ? {} : { for k, v in {
      RISK_SCORER_URL             = var.risk_scorer.url
      RISK_SCORER_FAILURE_POLICY  = var.risk_scorer.failure_policy
      RISK_SCORER_TIMEOUT_SECONDS = tostring(var.risk_scorer.timeout_seconds)
      RISK_SCORER_BLOCK_SCORE     = tostring(var.risk_scorer.block_score)
      RISK_SCORER_SECRET_ID       = var.risk_scorer.secret_arn
  } : k => v if v != null })
  secret_arns = {
    api_key         = module.gateway_secret.secret_arn
    webhook_signing = module.webhook_secret.secret_arn
  }

  # Rule ARNs computed from their names (the key policy names them, and the rules' queues need the key first).
  rule_arn_prefix = "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:rule/${var.event_bus_name == "default" ? "" : "${var.event_bus_name}/"}"
  rule_arns = concat(
    [for f in local.functions : "${local.rule_arn_prefix}${f.function_name}-consumed"],
    var.enable_audit_tap ? ["${local.rule_arn_prefix}${var.name_prefix}-audit"] : [],
  )

  # Receives for the retries to span the horizon: receive k is followed by retry_schedule_seconds[k - 1], the
  # last entry repeating (novamart_payments.config.receives_for_horizon; tests/reliability/test_budget.py).
  max_receive_count = 1 + length(var.retry_schedule_seconds) + max(0, ceil(
    (var.retry_horizon_seconds - sum(var.retry_schedule_seconds)) / var.retry_schedule_seconds[length(var.retry_schedule_seconds) - 1]
  ))

  # The mapping concurrency that keeps the gateway budget busy, and no more (docs/gateway.md, "Concurrency from the
  # budget"; tools/docgen/facts.py states the arithmetic with these values). A new payment makes 2 gateway requests
  # (create, confirm), one after the other, so at the budget the service finishes budget / 2 payments per second,
  # each holding its invocation for 2 x latency: budget / 2 x (2 x latency) invocations at once. The AWS calls and
  # the budget's own counter add to each invocation, so this is slightly under what the budget allows; the shared
  # budget (novamart_payments/budget.py) brakes whatever runs faster.
  gateway_requests_per_payment  = 2
  payments_per_second_at_budget = var.gateway_budget_per_second / local.gateway_requests_per_payment
  gateway_seconds_per_payment   = local.gateway_requests_per_payment * var.gateway_request_latency_ms / 1000
  derived_maximum_concurrency   = max(2, ceil(local.payments_per_second_at_budget * local.gateway_seconds_per_payment))
  maximum_concurrency           = coalesce(var.maximum_concurrency, local.derived_maximum_concurrency)
  # Each function reserves room for its mapping's invocations (else they are throttled and retried by the poller).
  reserved_concurrency = coalesce(var.reserved_concurrency, local.maximum_concurrency)

  queue_names = { for k, f in local.functions : k => "${f.function_name}-queue" }
  dlq_names   = { for k, f in local.functions : k => "${f.function_name}-dlq" }

  stripe_environment = var.gateway_mode != "stripe" ? {} : merge(
    { STRIPE_SECRET_ID = module.gateway_secret.secret_arn },
    var.stripe_api_base == null ? {} : { STRIPE_API_BASE = var.stripe_api_base, STRIPE_OFF_SESSION = "false" },
  )

  environment = merge(var.extra_environment, local.stripe_environment, local.risk_environment, {
    WEBHOOK_EVENT_TABLE_NAME        = var.webhook_event_table_name
    STRIPE_WEBHOOK_SECRET_ID        = module.webhook_secret.secret_arn
    ACTION_DEADLINE_SECONDS         = tostring(var.action_deadline_seconds)
    RECONCILE_PENDING_AFTER_SECONDS = tostring(var.reconcile_pending_after_seconds)
    RECONCILE_ACTION_AFTER_SECONDS  = tostring(var.reconcile_action_after_seconds)
    EVENT_MAJORS                    = jsonencode(var.event_majors)
    # What an early fraud warning does (docs/risk.md).
    RADAR_EARLY_FRAUD_WARNING_POLICY = var.radar_early_fraud_warning_policy
    }, {
    PAYMENT_TABLE_NAME           = var.payment_table_name
    REFUND_TABLE_NAME            = var.refund_table_name
    EVENT_BUS_NAME               = var.event_bus_name
    GATEWAY_MODE                 = var.gateway_mode
    POWERTOOLS_SERVICE_NAME      = var.powertools_service_name
    POWERTOOLS_METRICS_NAMESPACE = var.metrics_namespace
    LOG_LEVEL                    = var.log_level
    # The time guard never defers a record on its last receive (it would reach the DLQ untried).
    QUEUE_MAX_RECEIVE_COUNT = tostring(local.max_receive_count)
    RETRY_SCHEDULE_SECONDS  = join(",", [for s in var.retry_schedule_seconds : tostring(s)])
    RETRY_JITTER            = tostring(var.retry_jitter)
    RETRY_HORIZON_SECONDS   = tostring(var.retry_horizon_seconds)
    # The shared gateway request budget counts per second in the webhook-events table (its TTL forgets them).
    GATEWAY_BUDGET_PER_SECOND = tostring(var.gateway_budget_per_second)
    GATEWAY_BUDGET_TABLE_NAME = var.webhook_event_table_name
  })

  webhook_access_log_group = "/aws/apigateway/${var.webhook_function_name}"

  alarm_topic_arn = var.alarm_topic_arn != null ? var.alarm_topic_arn : module.notifications[0].topic_arn
}

module "key" {
  source = "../key"

  alias_name              = var.name_prefix
  deletion_window_in_days = var.kms_deletion_window_in_days
  log_group_names = concat(
    [for f in local.all_functions : "/aws/lambda/${f.function_name}"],
    var.webhook_endpoint_kind == "http_api" ? [local.webhook_access_log_group] : [],
  )
  event_rule_arns   = local.rule_arns
  alarm_name_prefix = "${var.name_prefix}-"
  tags              = var.tags
}

module "tables" {
  source = "../tables"

  payment_table_name       = var.payment_table_name
  refund_table_name        = var.refund_table_name
  webhook_event_table_name = var.webhook_event_table_name
  kms_key_arn              = module.key.key_arn
  deletion_protection      = var.deletion_protection
  tags                     = var.tags
}

module "gateway_secret" {
  source = "../gateway_secret"

  name                    = var.stripe_secret_name
  kms_key_arn             = module.key.key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days
  test_key                = var.stripe_test_key
  tags                    = var.tags
}

module "webhook_secret" {
  source = "../gateway_secret"

  name                    = var.stripe_webhook_secret_name
  description             = "Stripe webhook signing secret (whsec_) of the NovaMart webhook endpoint"
  test_value_prefix       = "whsec_"
  kms_key_arn             = module.key.key_arn
  recovery_window_in_days = var.secret_recovery_window_in_days
  test_key                = var.stripe_webhook_test_secret
  tags                    = var.tags
}

module "risk" {
  source = "../risk"
  count  = local.risk_enabled ? 1 : 0

  parameter_name      = "/${var.name_prefix}/risk-rules"
  table_name          = "${var.name_prefix}-risk-counters"
  rules               = var.risk_rules
  kms_key_arn         = module.key.key_arn
  deletion_protection = var.deletion_protection
  tags                = var.tags
}

module "function" {
  source   = "../function"
  for_each = local.all_functions

  function_name        = each.value.function_name
  description          = each.value.description
  handler              = each.value.handler
  package_path         = var.package_path
  package_s3           = var.package_s3
  timeout_seconds      = var.lambda_timeout_seconds
  memory_size          = var.lambda_memory_size
  reserved_concurrency = local.reserved_concurrency
  environment          = local.environment
  log_retention_days   = var.log_retention_days
  tracing_mode         = var.tracing_mode
  kms_key_arn          = module.key.key_arn
  table_permissions = [
    for grant in each.value.tables : {
      actions   = grant.actions
      resources = [for t in grant.tables : local.table_arns[t]]
    }
  ]
  secret_arns = concat([
    for s in each.value.secrets : local.secret_arns[s] if var.gateway_mode == "stripe" || s != "api_key"
  ], each.key == "payment" && try(var.risk_scorer.secret_arn, null) != null ? [var.risk_scorer.secret_arn] : [])
  parameter_arns          = [for p in lookup(each.value, "parameters", []) : local.parameter_arns[p] if contains(keys(local.parameter_arns), p)]
  queue_arn               = contains(keys(local.queue_names), each.key) ? "${local.sqs_arn_prefix}:${local.queue_names[each.key]}" : null
  event_bus_arn           = data.aws_cloudwatch_event_bus.this.arn
  publish_detail_types    = each.value.publishes
  code_signing_config_arn = var.code_signing_config_arn
  tags                    = var.tags
}

module "webhook_endpoint" {
  source = "../webhook_endpoint"

  kind                   = var.webhook_endpoint_kind
  function_name          = module.function["webhooks"].function_name
  function_arn           = module.function["webhooks"].function_arn
  api_name               = var.webhook_function_name
  throttling_rate_limit  = var.webhook_throttling_rate_limit
  throttling_burst_limit = var.webhook_throttling_burst_limit
  access_log_group_name  = local.webhook_access_log_group
  log_retention_days     = var.log_retention_days
  kms_key_arn            = module.key.key_arn
  tags                   = var.tags
}

module "reconcile_schedule" {
  source = "../schedule"

  name                = "${var.reconciler_function_name}-schedule"
  description         = "Runs ${var.reconciler_function_name}: one reconciliation pass"
  schedule_expression = var.reconcile_schedule
  function_arn        = module.function["reconciler"].function_arn
  tags                = var.tags
}

module "routing" {
  source   = "../routing"
  for_each = local.functions

  name                   = each.value.function_name
  event_bus_name         = var.event_bus_name
  consumes               = each.value.consumes
  queue_name             = local.queue_names[each.key]
  dlq_name               = local.dlq_names[each.key]
  function_name          = module.function[each.key].function_arn
  kms_key_arn            = module.key.key_arn
  lambda_timeout_seconds = var.lambda_timeout_seconds
  batch_size             = var.batch_size
  maximum_concurrency    = local.maximum_concurrency
  max_receive_count      = local.max_receive_count
  restrict_dlq_sources   = var.restrict_dlq_sources
  tags                   = var.tags
}

module "audit_tap" {
  source = "../audit_tap"

  enabled              = var.enable_audit_tap
  name                 = "${var.name_prefix}-audit"
  event_bus_name       = var.event_bus_name
  kms_key_arn          = module.key.key_arn
  restrict_dlq_sources = var.restrict_dlq_sources
  tags                 = var.tags
}

module "event_archive" {
  source = "../event_archive"

  enabled        = var.enable_event_archive
  name           = "${var.name_prefix}-published"
  event_bus_arn  = data.aws_cloudwatch_event_bus.this.arn
  retention_days = var.event_archive_retention_days
}

module "notifications" {
  source = "../notifications"
  count  = var.alarm_topic_arn == null ? 1 : 0

  topic_name    = "${var.name_prefix}-alarms"
  kms_key_arn   = module.key.key_arn
  subscriptions = var.alarm_subscriptions
  tags          = var.tags
}

module "alarms" {
  source = "../alarms"

  name_prefix = var.name_prefix
  functions = {
    for k, f in local.all_functions : k => { function_name = f.function_name, timeout_seconds = var.lambda_timeout_seconds }
  }
  queues = merge(
    local.queue_names,
    var.enable_audit_tap ? { audit = "${var.name_prefix}-audit" } : {},
  )
  dlqs = merge(
    local.dlq_names,
    var.enable_audit_tap ? { audit = "${var.name_prefix}-audit-dlq" } : {},
  )
  alarm_topic_arn                      = local.alarm_topic_arn
  runbook_url                          = var.runbook_url
  oldest_message_age_threshold_seconds = var.oldest_message_age_threshold_seconds
  metrics_namespace                    = var.metrics_namespace
  service_name                         = var.powertools_service_name
  record_metric_alarms = {
    validation-rejected = {
      metric      = "ValidationRejected", threshold = 0
      description = "An event broke its contract and was refused (it goes to the DLQ after its receives); a producer sends bad events."
    }
    transient-retries = {
      metric      = "TransientRetry", threshold = var.transient_retry_alarm_threshold
      description = "More than ${var.transient_retry_alarm_threshold} records per minute met a gateway outage and wait for redelivery."
    }
    backoff-not-set = {
      metric      = "BackoffNotSet", threshold = 0
      description = "A failed record's backoff could not be set (ChangeMessageVisibility refused): its message waits out the queue's visibility timeout instead of seconds."
    }
    time-guard-deferred = {
      metric      = "TimeGuardDeferred", threshold = 0
      description = "A record was left to redelivery for want of invocation time: the batch size x record budget no longer fits the Lambda timeout."
    }
    gateway-auth-error = {
      metric      = "GatewayAuthError", threshold = 0
      description = "The payment gateway refused our credentials (wrong, expired or unreadable Stripe key): records fail and are redelivered; nothing is published."
    }
    gateway-idempotency-error = {
      metric      = "GatewayIdempotencyError", threshold = 0
      description = "The payment gateway refused an idempotency key (reused with other parameters): the record is left PENDING and not retried."
    }
    webhook-rejected = {
      metric      = "WebhookRejected", threshold = var.webhook_rejected_alarm_threshold
      description = "More than ${var.webhook_rejected_alarm_threshold} webhook requests per minute failed Stripe's signature or freshness check: a wrong signing secret, or someone probing the endpoint."
    }
    oldest-unfinished-payment = {
      metric      = "OldestUnfinishedAgeSeconds", threshold = var.oldest_unfinished_alarm_seconds, statistic = "Maximum"
      description = "A payment (PENDING or waiting for the customer) or a refund (PENDING) has stayed unfinished for more than ${var.oldest_unfinished_alarm_seconds} s: reconciliation cannot finish it (gateway down, or a bug)."
    }
    mismatch-rejected = {
      metric      = "DuplicateRejected", threshold = 0
      description = "A repeated trigger carried other parameters (amount, currency) than the first and was refused; its producer must be told."
    }
    risk-blocked = {
      metric      = "RiskBlocked", threshold = var.risk_block_alarm_threshold
      description = "More than ${var.risk_block_alarm_threshold} orders per minute were blocked by the risk check: a bad rules push may be blocking good customers."
    }
    risk-rules-invalid = {
      metric      = "RiskRulesInvalid", threshold = 0
      description = "A risk rules document was refused at read: the functions keep the last good rules (a fresh container has none and retries its records)."
    }
    risk-scorer-errors = {
      metric      = "RiskScorerError", threshold = 0
      description = "The external fraud scorer failed or was slow: orders were decided by the configured fail-open or fail-closed policy."
    }
  }
  tags = var.tags
}

module "dashboard" {
  source = "../dashboard"

  name              = var.name_prefix
  region            = data.aws_region.current.name
  function_names    = { for k, f in local.all_functions : k => f.function_name }
  queue_names       = local.queue_names
  dlq_names         = local.dlq_names
  metrics_namespace = var.metrics_namespace
  service_name      = var.powertools_service_name
}

module "schema_registry" {
  source = "../schema_registry"

  enabled       = var.enable_schema_registry
  registry_name = var.name_prefix
  schema_dir    = var.schema_dir
  tags          = var.tags
}
