variable "name_prefix" {
  description = "Prefix of shared resource names (key alias, alarms, audit tap, topic)."
  type        = string
  default     = "novamart-payments"
}

variable "event_bus_name" {
  description = "EventBridge bus the service consumes from and publishes to (must exist)."
  type        = string
  default     = "default"
}

variable "payment_table_name" {
  description = "Name of the payments table."
  type        = string
  default     = "payments"
}

variable "refund_table_name" {
  description = "Name of the refunds table."
  type        = string
  default     = "refunds"
}

variable "payment_function_name" {
  description = "Name of the payment function."
  type        = string
  default     = "novamart-payment-handler"
}

variable "refund_function_name" {
  description = "Name of the refund function."
  type        = string
  default     = "novamart-refund-handler"
}

variable "webhook_function_name" {
  description = "Name of the webhook function (Stripe's events, through its function URL)."
  type        = string
  default     = "novamart-payment-webhooks"
}

variable "reconciler_function_name" {
  description = "Name of the reconciliation function (runs on a schedule)."
  type        = string
  default     = "novamart-payment-reconciler"
}

variable "webhook_endpoint_kind" {
  description = "The webhook function's endpoint: http_api (AWS; docs/gateway.md says why) or function_url (the emulators serve it)."
  type        = string
  default     = "http_api"
}

variable "webhook_throttling_rate_limit" {
  description = "Requests per second the webhook route lets through (http_api); a flood beyond it is answered 429 at the edge."
  type        = number
  default     = 50
}

variable "webhook_throttling_burst_limit" {
  description = "Burst the webhook route lets through (http_api)."
  type        = number
  default     = 100
}

variable "webhook_event_table_name" {
  description = "Name of the table of Stripe events the webhook function has handled (WEBHOOK_EVENT_TABLE_NAME)."
  type        = string
  default     = "payment-webhook-events"
}

variable "stripe_webhook_secret_name" {
  description = "Name of the secret holding the Stripe webhook signing secret (the functions get its ARN in STRIPE_WEBHOOK_SECRET_ID)."
  type        = string
  default     = "novamart/payments/stripe-webhook-signing-secret"
}

variable "stripe_webhook_test_secret" {
  description = "A local webhook signing secret (whsec_...) to store; null in AWS, where the value is set outside Terraform."
  type        = string
  default     = null
  sensitive   = true
}

variable "reconcile_schedule" {
  description = "How often reconciliation runs (EventBridge schedule expression)."
  type        = string
  default     = "rate(5 minutes)"
}

variable "reconcile_pending_after_seconds" {
  description = "Age after which reconciliation asks the gateway about a PENDING payment; keep it above retry_horizon_seconds so a trigger still being retried is left alone."
  type        = number
  default     = 7200

  validation {
    condition     = var.reconcile_pending_after_seconds >= 1 && var.reconcile_pending_after_seconds <= 604800
    error_message = "reconcile_pending_after_seconds must be between 1 and 604800."
  }
}

variable "reconcile_action_after_seconds" {
  description = "Age after which reconciliation asks the gateway about a payment waiting for the customer (a lost webhook)."
  type        = number
  default     = 900

  validation {
    condition     = var.reconcile_action_after_seconds >= 1 && var.reconcile_action_after_seconds <= 604800
    error_message = "reconcile_action_after_seconds must be between 1 and 604800."
  }
}

variable "action_deadline_seconds" {
  description = "How long a customer may take to authenticate (3-D Secure) before reconciliation cancels the payment: payment.failed, authentication_expired."
  type        = number
  default     = 82800

  validation {
    condition     = var.action_deadline_seconds >= 1 && var.action_deadline_seconds <= 604800
    error_message = "action_deadline_seconds must be between 1 and 604800."
  }
}

variable "oldest_unfinished_alarm_seconds" {
  description = "Alarm when the oldest unfinished payment (PENDING or waiting for the customer) is older than this."
  type        = number
  default     = 90000
}

variable "webhook_rejected_alarm_threshold" {
  description = "Alarm when more webhook requests than this per minute fail the signature or freshness check."
  type        = number
  default     = 10
}

variable "package_path" {
  description = "Path of build/lambda.zip (one package for both functions)."
  type        = string
}

variable "lambda_timeout_seconds" {
  description = "Timeout of both functions; each source queue's visibility timeout is 6x this (waited out only after a crash). batch_size records at their worst case must use at most 80 % of it: the arithmetic is in README.md (Configuration), checked by tests/reliability/test_budget.py."
  type        = number
  default     = 210
}

variable "lambda_memory_size" {
  description = "Memory of both functions in MB."
  type        = number
  default     = 256
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of each function; null: the mapping concurrency (each mapping's invocations then always find room, and the account's quota needs 4 x this + 100)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null ? true : var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency is null or a whole number of at least 1."
  }
}

variable "maximum_concurrency" {
  description = "Maximum concurrency of each SQS event-source mapping; null: sized from the gateway budget (the concurrency local: budget / requests per payment x requests per payment x gateway_request_latency_ms). Keep it <= reserved_concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null ? true : var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency is null or a whole number between 2 (the SQS minimum) and 1000."
  }
}

variable "gateway_request_latency_ms" {
  description = "Assumed time of one gateway request (Stripe's p50, about 300 ms), from which the mapping concurrency is sized: each invocation holds one request at a time, so keeping gateway_budget_per_second busy takes budget x latency invocations."
  type        = number
  default     = 300

  validation {
    condition     = var.gateway_request_latency_ms >= 1 && var.gateway_request_latency_ms <= 30000
    error_message = "gateway_request_latency_ms must be between 1 and 30000."
  }
}

variable "batch_size" {
  description = "SQS messages per invocation; batch_size x a record's worst case must fit in the Lambda timeout with margin (tests/reliability/test_budget.py). 1: no record waits behind another's gateway requests."
  type        = number
  default     = 1
}

variable "gateway_budget_per_second" {
  description = "Gateway requests per second all four functions together may send to the Stripe account (novamart_payments/budget.py): 80 % of the live limit (100); a test-mode account allows 25."
  type        = number
  default     = 80

  validation {
    condition     = var.gateway_budget_per_second >= 1 && var.gateway_budget_per_second <= 10000
    error_message = "gateway_budget_per_second must be between 1 and 10000."
  }
}

variable "retry_schedule_seconds" {
  description = "Per-message backoff: a failed record's message comes back after entry [receives - 1] (the last repeating), +/- retry_jitter, set by the function (ChangeMessageVisibility)."
  type        = list(number)
  default     = [2, 10, 30, 120, 300]

  validation {
    condition     = length(var.retry_schedule_seconds) > 0 && alltrue([for s in var.retry_schedule_seconds : s >= 1 && s <= 43200])
    error_message = "retry_schedule_seconds needs at least one delay, each 1-43200 s (SQS caps visibility at 12 h)."
  }
}

variable "retry_jitter" {
  description = "Spread of each backoff, as a fraction (0.2: +/- 20 %), so a burst that failed together does not come back together."
  type        = number
  default     = 0.2

  validation {
    condition     = var.retry_jitter >= 0 && var.retry_jitter <= 0.9
    error_message = "retry_jitter must be between 0 and 0.9."
  }
}

variable "retry_horizon_seconds" {
  description = "How long a failing trigger is retried before it dead-letters (and reconciliation finishes its payment); each queue's maxReceiveCount is derived from it and the schedule."
  type        = number
  default     = 3600

  validation {
    condition     = var.retry_horizon_seconds >= 1 && var.retry_horizon_seconds <= 1209600
    error_message = "retry_horizon_seconds must be between 1 and 1209600 (SQS keeps a message 14 days at most)."
  }
}

variable "gateway_mode" {
  description = "GATEWAY_MODE of the functions: `stripe` (production), or `simulated` (in-process, local and tests only)."
  type        = string
  default     = "stripe"

  validation {
    condition     = contains(["stripe", "simulated"], var.gateway_mode)
    error_message = "gateway_mode is `stripe` or `simulated`."
  }
}

variable "stripe_secret_name" {
  description = "Name of the Secrets Manager secret holding the Stripe key."
  type        = string
  default     = "novamart/payments/stripe-secret-key"
}

variable "stripe_test_key" {
  description = "Stripe test key stored in the secret by the apply (local stack only; null in AWS)."
  type        = string
  default     = null
  sensitive   = true
}

variable "stripe_api_base" {
  description = "STRIPE_API_BASE: a Stripe-compatible server (localstripe) instead of api.stripe.com; null in AWS."
  type        = string
  default     = null
}

variable "secret_recovery_window_in_days" {
  description = "Recovery window of the Stripe key secret (0 locally, so a fresh apply can reuse the name)."
  type        = number
  default     = 30
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"
}

variable "powertools_service_name" {
  description = "POWERTOOLS_SERVICE_NAME of the functions."
  type        = string
  default     = "novamart-payments"
}

variable "metrics_namespace" {
  description = "POWERTOOLS_METRICS_NAMESPACE of the functions."
  type        = string
  default     = "NovaMart/Payments"
}

variable "log_retention_days" {
  description = "Retention of the function log groups."
  type        = number
  default     = 365
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of the functions."
  type        = string
  default     = "Active"
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection."
  type        = bool
  default     = true
}

variable "kms_deletion_window_in_days" {
  description = "Deletion window of the service key."
  type        = number
  default     = 30
}

variable "enable_audit_tap" {
  description = "Create the audit tap (rule on everything novamart.payments publishes -> queue)."
  type        = bool
  default     = true
}

variable "enable_schema_registry" {
  description = "Create the EventBridge schema registry (never against moto: no Schemas API)."
  type        = bool
  default     = true
}

variable "schema_dir" {
  description = "Folder of registry-ready schemas (schemas/registry)."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic for alarm notifications; null creates an encrypted topic <name_prefix>-alarms."
  type        = string
  default     = null
}

variable "alarm_subscriptions" {
  description = "Who the created alarm topic notifies: protocol (email, https, sqs, lambda, ...) and endpoint. Unused with alarm_topic_arn (that topic's owner subscribes)."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "transient_retry_alarm_threshold" {
  description = "Alarm when more records than this per minute meet a transient gateway error."
  type        = number
  default     = 10
}

variable "oldest_message_age_threshold_seconds" {
  description = "Alarm threshold for the age of the oldest message of a source queue."
  type        = number
  default     = 300
}

variable "event_majors" {
  description = "Per published event: its current major and the last day (YYYY-MM-DD) of each older major still published beside it (docs/events/versioning.md). The default is the code's table (lambda_src/novamart_payments/majors.py; a unit test keeps them equal); an override may only end a window earlier, which the functions check at their cold start."
  type = map(object({
    current    = number
    deprecated = optional(map(string), {})
  }))
  default = {
    "payment.action_required" = { current = 1 }
    "payment.disputed"        = { current = 1 }
    "payment.failed"          = { current = 1 }
    "payment.succeeded"       = { current = 1 }
    "refund.failed"           = { current = 2, deprecated = { "1" = "2027-06-30" } }
    "refund.succeeded"        = { current = 1 }
  }

  validation {
    condition = alltrue(flatten([
      for event, majors in var.event_majors : [
        for major, last_day in majors.deprecated :
        can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", last_day)) && tonumber(major) < majors.current
      ]
    ]))
    error_message = "Each deprecated major must be below the current one, with its last day as YYYY-MM-DD."
  }
}

variable "extra_environment" {
  description = "Additional environment variables for both functions (never AWS_REGION: Lambda sets it)."
  type        = map(string)
  default     = {}
}


variable "code_signing_config_arn" {
  description = "Lambda code signing configuration of both functions; null only where AWS Signer is unavailable (the emulator)."
  type        = string
  default     = null
}

variable "package_s3" {
  description = "The signed package as an S3 object (bucket, key, optional object_version); null deploys package_path."
  type = object({
    bucket         = string
    key            = string
    object_version = optional(string)
  })
  default = null
}

variable "restrict_dlq_sources" {
  description = "Give every DLQ a redrive_allow_policy naming its one source queue (never against moto: it does not store the attribute and the provider would wait for it)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "runbook_url" {
  description = "Where the runbook is read (docs/runbook.md as published); each alarm's description links to its row there."
  type        = string
  default     = "docs/runbook.md"
}

variable "enable_event_archive" {
  description = "Archive everything the service publishes on its bus, so a window can be replayed (make replay, docs/runbook.md)."
  type        = bool
  default     = true
}

variable "event_archive_retention_days" {
  description = "Days a published event stays replayable from the archive (0 keeps them for ever)."
  type        = number
  default     = 30
}
