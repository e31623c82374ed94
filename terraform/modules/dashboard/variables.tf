variable "name" {
  description = "Dashboard name."
  type        = string
}

variable "region" {
  description = "Region the widgets read their metrics from."
  type        = string
}

variable "function_names" {
  description = "Functions shown, keyed by a short name (payment / refund / webhooks / reconciler)."
  type        = map(string)
}

variable "queue_names" {
  description = "Source queue of each function a queue feeds, keyed like function_names."
  type        = map(string)
}

variable "dlq_names" {
  description = "Dead-letter queue of each function a queue feeds, keyed like function_names."
  type        = map(string)
}

variable "metrics_namespace" {
  description = "Namespace of the service's own metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
}

variable "service_name" {
  description = "Value of the `service` dimension of the service's own metrics (POWERTOOLS_SERVICE_NAME)."
  type        = string
}

variable "period_seconds" {
  description = "Period of every graph."
  type        = number
  default     = 60
}
