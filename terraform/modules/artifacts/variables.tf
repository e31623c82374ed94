variable "bucket_name" {
  description = "Name of the artifacts bucket; null names it novamart-payments-artifacts-<account>-<region>."
  type        = string
  default     = null
}

variable "noncurrent_version_days" {
  description = "Days a replaced package version is kept (the rollback window)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_days >= 1
    error_message = "noncurrent_version_days must be at least 1."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy the bucket with its packages in it (a rehearsal only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
