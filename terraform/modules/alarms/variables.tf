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

variable "record_metric_alarms" {
  description = "Alarms on the service's own metrics, keyed by a short name: metric name, threshold (alarm when the statistic over one period exceeds it; Sum unless statistic says Maximum) and description."
  type = map(object({
    metric      = string
    threshold   = number
    description = string
    statistic   = optional(string, "Sum")
  }))
  default = {}
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the service's own metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "NovaMart/Payments"
}

variable "service_name" {
  description = "Value of the `service` dimension of the service's own metrics (POWERTOOLS_SERVICE_NAME)."
  type        = string
  default     = "novamart-payments"
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


variable "runbook_url" {
  description = "Where the runbook is read (docs/runbook.md as published); each alarm's description ends with a link to its row, <runbook_url>#<alarm key>."
  type        = string
  default     = "docs/runbook.md"
}
