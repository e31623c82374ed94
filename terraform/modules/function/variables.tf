variable "function_name" {
  description = "Lambda function name; the log group is /aws/lambda/<function_name>."
  type        = string
}

variable "description" {
  description = "Lambda function description."
  type        = string
  default     = ""
}

variable "handler" {
  description = "Handler in module.function form, e.g. novamart_payments.handlers.payment.handler."
  type        = string
}

variable "runtime" {
  description = "Lambda runtime identifier."
  type        = string
  default     = "python3.12"
}

variable "architecture" {
  description = "Instruction set of the package (the zip is built for x86_64)."
  type        = string
  default     = "x86_64"
}

variable "package_path" {
  description = "Path of the deployment zip built by `make package` (build/lambda.zip); its hash triggers updates."
  type        = string
}

variable "package_s3" {
  description = "The package as an S3 object (the signed output of an AWS Signer job, for code signing); null deploys package_path."
  type = object({
    bucket         = string
    key            = string
    object_version = optional(string)
  })
  default = null
}

variable "timeout_seconds" {
  description = "Lambda timeout in seconds; keep it well below the source queue's visibility timeout."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900
    error_message = "timeout_seconds must be between 1 and 900."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (the function's concurrency limit)."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1
    error_message = "reserved_concurrency must be at least 1 (0 would disable the function)."
  }
}

variable "environment" {
  description = "Environment variables. AWS_REGION and other reserved keys are set by Lambda and are rejected here."
  type        = map(string)
  default     = {}

  validation {
    condition = length(setintersection(keys(var.environment), [
      "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
      "AWS_LAMBDA_FUNCTION_NAME", "AWS_EXECUTION_ENV", "_HANDLER", "LAMBDA_TASK_ROOT",
    ])) == 0
    error_message = "environment must not set Lambda's reserved variables (AWS_REGION, credentials, ...)."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the log group, the environment variables, and the tables/queues the function uses."
  type        = string
}

variable "tracing_mode" {
  description = "X-Ray tracing mode (Active or PassThrough)."
  type        = string
  default     = "Active"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "table_permissions" {
  description = "DynamoDB actions the function's code calls, each with the table ARNs it calls them on (one statement each). tests/iam_policies checks them against the recorded calls."
  type = list(object({
    actions   = list(string)
    resources = list(string)
  }))

  validation {
    condition     = alltrue([for g in var.table_permissions : alltrue([for a in g.actions : startswith(a, "dynamodb:") && !strcontains(a, "*")])])
    error_message = "table_permissions may only name dynamodb: actions, without wildcards."
  }
}

variable "secret_arns" {
  description = "Secrets Manager secrets the function reads (secretsmanager:GetSecretValue; kms:Decrypt of the service key via Secrets Manager follows). Empty: none."
  type        = list(string)
  default     = []
}

variable "parameter_arns" {
  description = "SSM parameters the function reads (ssm:GetParameter): the risk rules. Empty: none."
  type        = list(string)
  default     = []
}

variable "queue_arn" {
  description = "ARN of the function's own SQS source queue (receive, delete, attributes: the event-source mapping); null for a function no queue feeds (webhooks, reconciliation)."
  type        = string
  default     = null
}

variable "event_bus_arn" {
  description = "ARN of the event bus the function publishes to."
  type        = string
}

variable "publish_source" {
  description = "The only `source` the function may use in PutEvents (events:source condition)."
  type        = string
  default     = "novamart.payments"
}

variable "publish_detail_types" {
  description = "The only `detail-type`s the function may use in PutEvents (events:detail-type condition)."
  type        = list(string)

  validation {
    condition     = length(var.publish_detail_types) > 0
    error_message = "publish_detail_types must name at least one detail-type."
  }
}

variable "code_signing_config_arn" {
  description = "Lambda code signing configuration enforced on the package; null deploys unsigned code (emulator only: envs/aws always sets it)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
