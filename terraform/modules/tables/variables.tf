variable "payment_table_name" {
  description = "Name of the payments table (hash key paymentId, GSI orderId-index)."
  type        = string
}

variable "refund_table_name" {
  description = "Name of the refunds table (hash key refundId, GSI orderId-index)."
  type        = string
}

variable "webhook_event_table_name" {
  description = "Name of the table of Stripe events already handled by the webhook function (hash key eventId, TTL expiresAt)."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key used for server-side encryption."
  type        = string
}

variable "deletion_protection" {
  description = "Turn on DynamoDB deletion protection (on in AWS, off in the local emulator so it can be torn down)."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Turn on point-in-time recovery (continuous backups)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
