variable "emulator_url" {
  description = "Endpoint of the AWS emulator (moto server) for every service; tools/tf.sh passes $AWS_ENDPOINT_URL."
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "region" {
  description = "Region the emulator pretends to be."
  type        = string
  default     = "us-east-2"
}

variable "event_bus_name" {
  description = "Bus the service consumes from and publishes to."
  type        = string
  default     = "default"
}

variable "package_path" {
  description = "Path of the Lambda zip; null means build/lambda.zip at the repository root."
  type        = string
  default     = null
}

variable "enable_audit_tap" {
  description = "Create the audit tap the behaviour suite reads published events from."
  type        = bool
  default     = true
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "DEBUG"
}

variable "lambda_timeout_seconds" {
  description = "Timeout of every function (queue visibility timeout = 6x); holds a batch of records at their worst case with margin."
  type        = number
  default     = 210
}

variable "alarm_subscriptions" {
  description = "Who the created alarm topic notifies: protocol (email, https, sqs, ...) and endpoint."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "gateway_mode" {
  description = "GATEWAY_MODE of the functions: `stripe` (against localstripe at stripe_api_base) or `simulated` (in-process)."
  type        = string
  default     = "stripe"
}

variable "stripe_api_base" {
  description = "Where the local Stripe-compatible server (localstripe) listens."
  type        = string
  default     = "http://127.0.0.1:8420"
}

variable "retry_schedule_seconds" {
  description = "Per-message backoff (the service module's; local: seconds, so the behaviour suite sees retries and dead letters quickly)."
  type        = list(number)
  default     = [1, 2]
}

variable "retry_horizon_seconds" {
  description = "Retry horizon of a failing trigger (local: 4 s, so 4 receives: 1 + 2 entries + 1 more of the last)."
  type        = number
  default     = 4
}

variable "gateway_budget_per_second" {
  description = "Gateway requests per second all functions share (GATEWAY_BUDGET_PER_SECOND). localstripe stands for a test-mode account: 25 requests/s, 80 % of it. make load runs at 10 (TF_VAR_gateway_budget_per_second), what these 2-core machines drive with five invocations per mapping."
  type        = number
  default     = 20
}

variable "batch_size" {
  description = "SQS messages per invocation (1, as in AWS: every record starts with the whole Lambda timeout ahead of it)."
  type        = number
  default     = 1
}

variable "aws_call_timeout_seconds" {
  description = "AWS_CALL_TIMEOUT_SECONDS of the functions; null leaves the code's default (1.0)."
  type        = number
  default     = null
}

variable "aws_max_attempts" {
  description = "AWS_MAX_ATTEMPTS of the functions; null leaves the code's default (3)."
  type        = number
  default     = null
}

variable "gateway_budget_max_wait_seconds" {
  description = "GATEWAY_BUDGET_MAX_WAIT_SECONDS of the functions (longest wait for a second with budget left); null leaves the code's default (1.0)."
  type        = number
  default     = null
}

variable "stripe_max_network_retries" {
  description = "STRIPE_MAX_NETWORK_RETRIES of the functions; null leaves the code's default (1)."
  type        = number
  default     = null
}

variable "stripe_timeout_seconds" {
  description = "STRIPE_TIMEOUT_SECONDS of the functions; null leaves the code's default (novamart_payments/config.py; terraform/README.md states it)."
  type        = number
  default     = null
}

variable "reconcile_pending_after_seconds" {
  description = "Age after which reconciliation asks the gateway about a PENDING payment (local: seconds, not hours)."
  type        = number
  default     = 60
}

variable "reconcile_action_after_seconds" {
  description = "Age after which reconciliation asks the gateway about a payment waiting for the customer."
  type        = number
  default     = 5
}

variable "action_deadline_seconds" {
  description = "How long a customer may take to authenticate locally before reconciliation cancels the payment."
  type        = number
  default     = 15
}
