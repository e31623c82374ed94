variable "name" {
  description = "Name of the secret (the functions get its ARN in STRIPE_SECRET_ID)."
  type        = string
}

variable "description" {
  description = "What the secret holds, for the console."
  type        = string
  default     = "Stripe secret (or restricted) key of the NovaMart payment functions"
}

variable "test_value_prefix" {
  description = "The prefix a value stored through Terraform must have: a Stripe test key (sk_test_) or a webhook signing secret (whsec_), never a live key."
  type        = string
  default     = "sk_test_"

  validation {
    condition     = contains(["sk_test_", "whsec_"], var.test_value_prefix)
    error_message = "test_value_prefix must be sk_test_ or whsec_."
  }
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
    condition     = var.test_key == null || startswith(coalesce(var.test_key, var.test_value_prefix), var.test_value_prefix)
    error_message = "Only a Stripe test key (sk_test_...) or a local signing secret (whsec_...) may be stored through Terraform; a live key must never enter the state."
  }
}

variable "tags" {
  description = "Tags for the secret."
  type        = map(string)
  default     = {}
}
