variable "function_name" {
  description = "Name of the webhook function the endpoint invokes."
  type        = string
}

variable "kind" {
  description = "http_api (AWS: API Gateway HTTP API, invoke permission scoped to its route) or function_url (the emulators: they serve function URLs and enforce no resource policy)."
  type        = string
  default     = "function_url"

  validation {
    condition     = contains(["http_api", "function_url"], var.kind)
    error_message = "kind is http_api or function_url."
  }
}

variable "function_arn" {
  description = "ARN of the webhook function (the HTTP API's integration); required with kind = http_api."
  type        = string
  default     = null
}

variable "api_name" {
  description = "Name of the HTTP API (kind = http_api)."
  type        = string
  default     = "novamart-payment-webhooks"
}

variable "route_path" {
  description = "Path of the one route (POST); the endpoint registered in Stripe is the API's URL plus this path."
  type        = string
  default     = "/stripe/webhooks"

  validation {
    condition     = can(regex("^/[A-Za-z0-9/_-]+$", var.route_path))
    error_message = "route_path starts with / and holds letters, digits, -, _ and /."
  }
}

variable "throttling_rate_limit" {
  description = "Steady requests per second the route lets through (kind = http_api); above it API Gateway answers 429 and Stripe retries later. Stripe sends a few per payment."
  type        = number
  default     = 50
}

variable "throttling_burst_limit" {
  description = "Burst of requests the route lets through at once (kind = http_api)."
  type        = number
  default     = 100
}

variable "integration_timeout_ms" {
  description = "How long API Gateway waits for the function (HTTP APIs allow at most 30 s; Stripe waits less and retries)."
  type        = number
  default     = 29000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 30000
    error_message = "integration_timeout_ms must be between 50 and 30000."
  }
}

variable "access_log_group_name" {
  description = "Log group of the stage's access log (kind = http_api); the service key must allow CloudWatch Logs for it."
  type        = string
  default     = "/aws/apigateway/novamart-payment-webhooks"
}

variable "log_retention_days" {
  description = "Retention of the access log."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Customer-managed key of the access log group (kind = http_api)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
