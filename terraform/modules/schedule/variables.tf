variable "name" {
  description = "Name of the schedule rule."
  type        = string
}

variable "description" {
  description = "What the schedule runs, for the console."
  type        = string
  default     = ""
}

variable "schedule_expression" {
  description = "EventBridge schedule, e.g. rate(5 minutes)."
  type        = string

  validation {
    condition     = can(regex("^(rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|cron\\(.+\\))$", var.schedule_expression))
    error_message = "schedule_expression must be rate(N unit) or cron(...)."
  }
}

variable "function_arn" {
  description = "ARN of the function the schedule invokes."
  type        = string
}

variable "tags" {
  description = "Tags of the rule."
  type        = map(string)
  default     = {}
}
