variable "functions" {
  description = "Functions to watch, keyed by a short name: errors, throttles and maximum duration near the timeout."
  type = map(object({
    function_name   = string
    timeout_seconds = number
  }))
}

variable "queues" {
  description = "Source queues to watch (age of the oldest message), keyed by a short name; values are queue names."
  type        = map(string)
}

variable "dlqs" {
  description = "Dead-letter queues to watch (any visible message), keyed by a short name; values are queue names."
  type        = map(string)
}

variable "alarm_topic_arn" {
  description = "SNS topic that receives alarm and OK notifications."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every alarm name."
  type        = string
  default     = "novamart-payments"
}

variable "period_seconds" {
  description = "Evaluation period of every alarm."
  type        = number
  default     = 60
}

variable "duration_threshold_ratio" {
  description = "Alarm when the maximum duration exceeds this fraction of the function's timeout."
  type        = number
  default     = 0.8

  validation {
    condition     = var.duration_threshold_ratio > 0 && var.duration_threshold_ratio < 1
    error_message = "duration_threshold_ratio must be between 0 and 1."
  }
}

variable "oldest_message_age_threshold_seconds" {
  description = "Alarm when the oldest message of a source queue is older than this."
  type        = number
  default     = 300
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the functions' own metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "NovaMart/Payments"
}

variable "service_metric_alarms" {
  description = "The functions' own metrics that alarm at the first occurrence: metric name => what it means."
  type        = map(string)
  default = {
    GatewayAuthError        = "The payment gateway refused our credentials (wrong, expired or unreadable Stripe key): records fail and are redelivered; nothing is published."
    GatewayIdempotencyError = "The payment gateway refused an idempotency key (reused with other parameters): the record is left PENDING and not retried."
    DuplicateRejected       = "A producer repeated a trigger (same order, or same refund requestId) with another amount or customer: nothing was charged or refunded; follow docs/operations.md."
  }
}
