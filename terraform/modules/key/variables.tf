variable "alias_name" {
  description = "Alias of the key without the `alias/` prefix, e.g. `novamart-payments`."
  type        = string
}

variable "description" {
  description = "Human-readable description of the key."
  type        = string
  default     = "NovaMart payments: DynamoDB, SQS, SNS, CloudWatch Logs and Lambda environment encryption"
}

variable "deletion_window_in_days" {
  description = "Waiting period (7-30 days) before a scheduled key deletion takes effect."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "log_group_names" {
  description = "CloudWatch Logs log groups that may use the key, by exact name (encryption context condition)."
  type        = list(string)
}

variable "event_rule_arns" {
  description = "EventBridge rules that may use the key to deliver to the encrypted queues (aws:SourceArn condition)."
  type        = list(string)
}

variable "alarm_name_prefix" {
  description = "CloudWatch alarms whose names start with this may use the key to publish to the encrypted topic (aws:SourceArn condition)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
