variable "name" {
  description = "Base name of the rule (usually the function name); the rule is <name>-consumed."
  type        = string
}

variable "event_bus_name" {
  description = "Name of the EventBridge bus the consumed events arrive on."
  type        = string
}

variable "consumes" {
  description = "What the function consumes: one entry per source with its detail-types. The rule matches exactly these (source, detail-type) pairs."
  type = list(object({
    source       = string
    detail_types = list(string)
  }))

  validation {
    condition     = length(var.consumes) > 0 && alltrue([for c in var.consumes : length(c.detail_types) > 0])
    error_message = "consumes needs at least one source, each with at least one detail-type."
  }

  validation {
    condition     = length(distinct([for c in var.consumes : c.source])) == length(var.consumes)
    error_message = "List each source once in consumes (put all its detail-types in one entry)."
  }
}

variable "queue_name" {
  description = "Name of the function's source queue."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue (receives the source queue's redrive and the rule target's undeliverable events)."
  type        = string
}

variable "function_name" {
  description = "Name or ARN of the Lambda function the event-source mapping invokes."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for both queues."
  type        = string
}

variable "lambda_timeout_seconds" {
  description = "The function's timeout; the queue's visibility timeout is this times visibility_timeout_multiplier."
  type        = number
}

variable "visibility_timeout_multiplier" {
  description = "Visibility timeout = multiplier x Lambda timeout (AWS recommends at least 6)."
  type        = number
  default     = 6

  validation {
    condition     = var.visibility_timeout_multiplier >= 6
    error_message = "AWS recommends a visibility timeout of at least 6x the function timeout."
  }
}

variable "batch_size" {
  description = "Messages per Lambda invocation."
  type        = number
  default     = 10

  validation {
    condition     = var.batch_size >= 1 && var.batch_size <= 10
    error_message = "batch_size must be 1-10 (larger batches need a batching window)."
  }
}

variable "maximum_batching_window_seconds" {
  description = "How long the mapping waits to fill a batch (0 = invoke as soon as messages arrive)."
  type        = number
  default     = 0
}

variable "maximum_concurrency" {
  description = "Maximum concurrent invocations the mapping drives (2-1000); protects the payment gateway from bursts."
  type        = number
  default     = 5

  validation {
    condition     = var.maximum_concurrency >= 2 && var.maximum_concurrency <= 1000
    error_message = "maximum_concurrency must be between 2 and 1000."
  }
}

variable "max_receive_count" {
  description = "Receives before a message moves from the source queue to the DLQ."
  type        = number
  default     = 5
}

variable "message_retention_seconds" {
  description = "Retention of the source queue."
  type        = number
  default     = 345600
}

variable "dlq_message_retention_seconds" {
  description = "Retention of the DLQ (maximum, 14 days, to leave time for redrive)."
  type        = number
  default     = 1209600
}

variable "target_retry_attempts" {
  description = "EventBridge retries to deliver an event to the queue before it goes to the DLQ."
  type        = number
  default     = 24
}

variable "target_maximum_event_age_seconds" {
  description = "Maximum age of an event EventBridge keeps retrying (60-86400)."
  type        = number
  default     = 3600
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
