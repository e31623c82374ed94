variable "signing_profile_version_arns" {
  description = "Version ARNs of existing AWS Signer profiles allowed to sign the functions' code; empty creates one profile here."
  type        = list(string)
  default     = []
}

variable "profile_name_prefix" {
  description = "Name prefix of the created signing profile (letters, digits and underscores only)."
  type        = string
  default     = "novamart_payments_"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,38}$", var.profile_name_prefix))
    error_message = "profile_name_prefix may hold letters, digits and underscores only (at most 38)."
  }
}

variable "signature_validity_months" {
  description = "How long a signature made with the created profile stays valid, in months."
  type        = number
  default     = 135
}

variable "untrusted_artifact_on_deployment" {
  description = "What Lambda does with an unsigned or wrongly signed package: Enforce (reject) or Warn (log only)."
  type        = string
  default     = "Enforce"

  validation {
    condition     = contains(["Enforce", "Warn"], var.untrusted_artifact_on_deployment)
    error_message = "untrusted_artifact_on_deployment must be Enforce or Warn."
  }
}

variable "description" {
  description = "Description of the code signing configuration."
  type        = string
  default     = "NovaMart payments: only code signed by the allowed profiles"
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
