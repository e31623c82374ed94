variable "region" {
  description = "AWS region of the service."
  type        = string
  default     = "us-east-2"
}

variable "environment" {
  description = "Environment name, used in tags (e.g. staging, production)."
  type        = string
  default     = "production"
}

variable "event_bus_name" {
  description = "Bus the service consumes from and publishes to (must exist)."
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

variable "package_path" {
  description = "Path of the Lambda zip; null means build/lambda.zip at the repository root."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "Existing SNS topic for alarms (e.g. the on-call topic); null creates an encrypted novamart-payments-alarms topic."
  type        = string
  default     = null
}

variable "enable_audit_tap" {
  description = "Create the audit tap (queue of everything novamart.payments publishes). Off: nothing reads that queue in AWS, so its oldest-message alarm would fire from the first event."
  type        = bool
  default     = false
}

variable "enable_schema_registry" {
  description = "Publish schemas/registry/*.json to an EventBridge schema registry."
  type        = bool
  default     = true
}

variable "lambda_timeout_seconds" {
  description = "Timeout of both functions (queue visibility timeout = 6x); holds a batch of records at their worst case with margin."
  type        = number
  default     = 210
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of each of the four functions; null: the mapping concurrency (sized from the gateway budget). AWS keeps at least 100 executions unreserved, so the account's Lambda concurrency quota must be at least 4 x reserved_concurrency + 100 (docs/go-live.md gives the number with the defaults; new accounts may start at 10: ask for an increase first). make deploy checks the account before it applies."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null ? true : var.reserved_concurrency >= 2 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency is null or a whole number of at least 2 (an SQS event-source mapping's maximum_concurrency is at least 2 and must fit in it)."
  }
}

variable "maximum_concurrency" {
  description = "Maximum concurrency of each event-source mapping; null (the default): sized from gateway_budget_per_second and gateway_request_latency_ms (docs/gateway.md). At most reserved_concurrency."
  type        = number
  default     = null

  validation {
    condition     = var.maximum_concurrency == null ? true : var.maximum_concurrency >= 2 && floor(var.maximum_concurrency) == var.maximum_concurrency
    error_message = "maximum_concurrency is null or a whole number of at least 2 (the SQS minimum)."
  }
}

variable "gateway_budget_per_second" {
  description = "Gateway requests per second all four functions together may send to the Stripe account: 80 % of Stripe's live limit (100/s). A test-mode account allows 25/s: use 20 with a test key."
  type        = number
  default     = 80
}

variable "gateway_request_latency_ms" {
  description = "Assumed time of one Stripe request (p50), from which the mapping concurrency is sized when maximum_concurrency is null."
  type        = number
  default     = 300
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"
}

variable "stripe_secret_name" {
  description = "Secrets Manager secret for the Stripe key; its value is set outside Terraform (docs/gateway.md)."
  type        = string
  default     = "novamart/payments/stripe-secret-key"
}

variable "gateway_mode" {
  description = "GATEWAY_MODE of the functions. Only `stripe` is accepted here (see the validation)."
  type        = string
  default     = "stripe"

  validation {
    condition     = var.gateway_mode == "stripe"
    error_message = "envs/aws deploys only the Stripe gateway: the simulated gateway keeps its ledger in one process, so on a Lambda fleet it would report charges nobody made (docs/gateway.md)."
  }
}

variable "code_signing_profile_version_arns" {
  description = "Version ARNs of existing AWS Signer profiles allowed to sign the functions' code; empty creates a profile (see the code_signing_profile_name output)."
  type        = list(string)
  default     = []
}

variable "code_signing_policy" {
  description = "What Lambda does with an unsigned package: Enforce (reject the deployment) or Warn."
  type        = string
  default     = "Enforce"

  validation {
    condition     = contains(["Enforce", "Warn"], var.code_signing_policy)
    error_message = "code_signing_policy is Enforce or Warn."
  }
}

variable "enable_code_signing" {
  description = "Attach a code signing configuration to the functions. Off only in the emulator rehearsal (no Lambda code signing there)."
  type        = bool
  default     = true
}

variable "artifact_bucket_name" {
  description = "Name of the versioned bucket make deploy uploads and signs the package in; null: novamart-payments-artifacts-<account>-<region>."
  type        = string
  default     = null
}

variable "rehearsal_endpoint" {
  description = "CI rehearsal only: an emulator endpoint every AWS service of the provider is pointed at (tests/rehearsal). null (always in a real account): AWS itself."
  type        = string
  default     = null
}

variable "signed_package" {
  description = "The signed build/lambda.zip as an S3 object (output of the signing job, passed by make deploy); required with code_signing_policy = Enforce, null deploys the local zip unsigned."
  type = object({
    bucket         = string
    key            = string
    object_version = optional(string)
  })
  default = null
}

variable "alarm_subscriptions" {
  description = "Who the created alarm topic notifies: protocol (email, https, sqs, ...) and endpoint."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "subscriber_account_ids" {
  description = "AWS accounts that may create their own rules on the bus for the service's events (docs/events/subscribing.md)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.subscriber_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "subscriber_account_ids holds 12-digit AWS account ids."
  }
}
