variable "enabled" {
  description = "Create the archive."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the archive (make replay reads it by name)."
  type        = string
}

variable "event_bus_arn" {
  description = "ARN of the bus the service publishes to."
  type        = string
}

variable "source_name" {
  description = "The `source` whose events are archived (everything the service publishes)."
  type        = string
  default     = "novamart.payments"
}

variable "retention_days" {
  description = "Days an archived event can be replayed (0 keeps them for ever)."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 0 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days, 0 or more."
  }
}
