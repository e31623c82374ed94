variable "enabled" {
  description = "Create the audit tap (rule + queue + DLQ). The behaviour suite reads published events from it; production may turn it off."
  type        = bool
  default     = true
}

variable "name" {
  description = "Base name of the rule and queues."
  type        = string
  default     = "novamart-payments-audit"
}

variable "event_bus_name" {
  description = "Bus the service publishes to."
  type        = string
}

variable "source_name" {
  description = "The `source` whose events are tapped (everything it publishes)."
  type        = string
  default     = "novamart.payments"
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the queues."
  type        = string
}

variable "message_retention_seconds" {
  description = "Retention of the audit queue."
  type        = number
  default     = 345600
}

variable "max_receive_count" {
  description = "Receives before a tapped event moves to the audit DLQ (high: readers may peek several times)."
  type        = number
  default     = 1000
}

variable "restrict_dlq_sources" {
  description = "Give the DLQ a redrive_allow_policy naming its one source queue; false only where the emulator cannot store it (moto)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
