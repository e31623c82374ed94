variable "name" {
  description = "Name of the secret (the functions get its ARN in STRIPE_SECRET_ID)."
  type        = string
}

variable "kms_key_arn" {
  description = "The service key that encrypts the secret."
  type        = string
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can be restored (0 deletes at once: local only)."
  type        = number
  default     = 30
}

variable "test_key" {
  description = "A Stripe test key to store (local stack only). Leave null in AWS: set the value outside Terraform."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.test_key == null || startswith(coalesce(var.test_key, "sk_test_"), "sk_test_")
    error_message = "Only a Stripe test key (sk_test_...) may be stored through Terraform; a live key must never enter the state."
  }
}

variable "tags" {
  description = "Tags for the secret."
  type        = map(string)
  default     = {}
}
