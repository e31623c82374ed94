variable "parameter_name" {
  description = "Name of the SSM parameter holding the rules document."
  type        = string
}

variable "table_name" {
  description = "Name of the counters' DynamoDB table."
  type        = string
}

variable "rules" {
  description = "The rules document (JSON, docs/risk.md; schema lambda_src/novamart_payments/risk/rules.schema.json). Refused at plan when it is not JSON or breaks the schema's main rules; the functions check the full schema at every read and keep the last good rules when a read is invalid."
  type        = string

  validation {
    condition     = can(jsondecode(var.rules)) && can(keys(jsondecode(var.rules)))
    error_message = "risk rules: not a JSON object."
  }
  validation {
    condition     = try(jsondecode(var.rules).version == 1, false)
    error_message = "risk rules: \"version\" must be 1."
  }
  validation {
    condition     = try(length(setsubtract(keys(jsondecode(var.rules)), ["version", "blockList", "amountLimits", "velocity", "maxCustomersPerTokenPerDay"])) == 0, false)
    error_message = "risk rules: only version, blockList, amountLimits, velocity and maxCustomersPerTokenPerDay are allowed."
  }
  validation {
    condition = try(alltrue([
      for currency, limit in try(jsondecode(var.rules).amountLimits, {}) :
      can(regex("^[A-Z]{3}$", currency)) && floor(limit) == limit && limit >= 1
    ]), false)
    error_message = "risk rules: amountLimits maps an ISO 4217 code to a whole number of minor units >= 1."
  }
  validation {
    condition = try(alltrue([
      for rule in try(jsondecode(var.rules).velocity, []) :
      can(regex("^[a-z0-9-]{1,40}$", rule.name)) && rule.windowSeconds >= 60 && rule.windowSeconds <= 2592000
      && (can(rule.maxOrders) || can(rule.maxAmount))
      && try(rule.maxOrders >= 1 && floor(rule.maxOrders) == rule.maxOrders, !can(rule.maxOrders))
      && alltrue([for c, v in try(rule.maxAmount, {}) : can(regex("^[A-Z]{3}$", c)) && floor(v) == v && v >= 1])
    ]), false)
    error_message = "risk rules: each velocity rule needs a name ([a-z0-9-]), windowSeconds 60..2592000 and maxOrders (>= 1) and/or maxAmount (currency -> minor units >= 1)."
  }
  validation {
    condition = try(alltrue(concat(
      [for c in try(jsondecode(var.rules).blockList.customers, []) : length(c) >= 1 && length(c) <= 64],
      [for t in try(jsondecode(var.rules).blockList.tokenSha256, []) : can(regex("^[0-9a-f]{64}$", t))],
      [length(setsubtract(keys(try(jsondecode(var.rules).blockList, {})), ["customers", "tokenSha256"])) == 0],
    )), false)
    error_message = "risk rules: blockList holds customers (ids) and tokenSha256 (64 hex digits: a token's SHA-256, never a token)."
  }
  validation {
    condition     = try(jsondecode(var.rules).maxCustomersPerTokenPerDay >= 1, !can(jsondecode(var.rules).maxCustomersPerTokenPerDay))
    error_message = "risk rules: maxCustomersPerTokenPerDay must be >= 1."
  }
}

variable "kms_key_arn" {
  description = "The service's KMS key: encrypts the counters' table."
  type        = string
}

variable "deletion_protection" {
  description = "Deletion protection of the counters' table."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "Point-in-time recovery of the counters' table."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
