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
  description = "Create the audit tap (queue of everything novamart.payments publishes)."
  type        = bool
  default     = true
}

variable "enable_schema_registry" {
  description = "Publish schemas/registry/*.json to an EventBridge schema registry."
  type        = bool
  default     = true
}

variable "lambda_timeout_seconds" {
  description = "Timeout of both functions (queue visibility timeout = 6x)."
  type        = number
  default     = 60
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of each function."
  type        = number
  default     = 10
}

variable "maximum_concurrency" {
  description = "Maximum concurrency of each event-source mapping (protects the payment gateway)."
  type        = number
  default     = 5
}

variable "log_level" {
  description = "LOG_LEVEL of the functions."
  type        = string
  default     = "INFO"
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
