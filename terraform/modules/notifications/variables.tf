variable "topic_name" {
  description = "Name of the alarm topic."
  type        = string
  default     = "novamart-payments-alarms"
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key encrypting the topic (its policy must let cloudwatch.amazonaws.com use it)."
  type        = string
}

variable "subscriptions" {
  description = "Subscriptions of the alarm topic: protocol (email, https, sqs, lambda, ...) and endpoint."
  type = list(object({
    protocol = string
    endpoint = string
  }))
  default = []
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
