data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  log_group_name = "/aws/lambda/${var.function_name}"
  log_group_arn  = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:${local.log_group_name}"

  # Decrypting with the service key happens only through the services that hold data encrypted with it: the
  # SQS event-source mapping (the queue), Lambda (the environment variables) and, with a secret to read,
  # Secrets Manager.
  kms_via_services = concat(
    var.queue_arn == null ? [] : ["sqs.${data.aws_region.current.name}.amazonaws.com"],
    ["lambda.${data.aws_region.current.name}.amazonaws.com"],
    length(var.secret_arns) > 0 ? ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"] : [],
  )

  # Every table is encrypted with the service key, and DynamoDB uses that key with the caller's own rights: each
  # read needs kms:Decrypt and kms:DescribeKey through DynamoDB, each write kms:Encrypt and kms:GenerateDataKey as
  # well (AWS DynamoDB developer guide, "How Amazon DynamoDB uses AWS KMS"; the events its CloudTrail example
  # shows). Only through DynamoDB (kms:ViaService), only on the service key.
  dynamodb_write_actions = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"]
  writes_tables          = anytrue([for g in var.table_permissions : length(setintersection(g.actions, local.dynamodb_write_actions)) > 0])
  table_key_statements = length(var.table_permissions) == 0 ? [] : [{
    Sid       = "ServiceKeyThroughDynamoDB"
    Effect    = "Allow"
    Action    = concat(["kms:Decrypt", "kms:DescribeKey"], local.writes_tables ? ["kms:Encrypt", "kms:GenerateDataKey"] : [])
    Resource  = [var.kms_key_arn]
    Condition = { StringEquals = { "kms:ViaService" = ["dynamodb.${data.aws_region.current.name}.amazonaws.com"] } }
  }]

  # Least privilege, checked against the calls the code really makes by tests/iam_policies (the role as applied,
  # evaluated with an IAM policy evaluator): only the actions the handlers and the Lambda service use, only on
  # this function's resources. X-Ray's PutTraceSegments / PutTelemetryRecords have no resource-level
  # permissions: "*" is the only value AWS accepts there.
  table_statements = [
    for i, grant in var.table_permissions : {
      Sid      = "Tables${i}"
      Effect   = "Allow"
      Action   = grant.actions
      Resource = grant.resources
    }
  ]

  # The risk rules (issue 20): read through Powertools Parameters (ssm:GetParameter); a String parameter, no key.
  parameter_statements = length(var.parameter_arns) == 0 ? [] : [{
    Sid      = "ReadParameters"
    Effect   = "Allow"
    Action   = ["ssm:GetParameter"]
    Resource = var.parameter_arns
  }]

  secret_statements = length(var.secret_arns) == 0 ? [] : [{
    Sid      = "ReadSecrets"
    Effect   = "Allow"
    Action   = ["secretsmanager:GetSecretValue"]
    Resource = var.secret_arns
  }]

  # What the SQS event-source mapping does with the execution role (functions fed by a queue only), and what the
  # function does to a failed record's own message: its backoff (ChangeMessageVisibility) and, for a rate limit
  # on the last receive, queueing it again (SendMessage, which encrypts with the queue's key through SQS).
  queue_statements = var.queue_arn == null ? [] : [
    {
      Sid      = "SourceQueue"
      Effect   = "Allow"
      Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
      Resource = [var.queue_arn]
    },
    {
      Sid      = "OwnMessageBackoff"
      Effect   = "Allow"
      Action   = ["sqs:ChangeMessageVisibility", "sqs:SendMessage"]
      Resource = [var.queue_arn]
    },
  ]
  requeue_key_statements = var.queue_arn == null ? [] : [{
    Sid       = "RequeueEncrypted"
    Effect    = "Allow"
    Action    = ["kms:GenerateDataKey"]
    Resource  = [var.kms_key_arn]
    Condition = { StringEquals = { "kms:ViaService" = ["sqs.${data.aws_region.current.name}.amazonaws.com"] } }
  }]

  policy = {
    Version = "2012-10-17"
    Statement = concat(local.table_statements, local.table_key_statements, local.secret_statements, local.parameter_statements, local.queue_statements, local.requeue_key_statements, [
      {
        Sid       = "ServiceKey"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [var.kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = local.kms_via_services } }
      },
      {
        Sid      = "OwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${local.log_group_arn}:log-stream:*"]
      },
      {
        Sid      = "XRayNoResourceLevelPermissions"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = ["*"]
      },
      {
        Sid      = "PublishOwnEvents"
        Effect   = "Allow"
        Action   = ["events:PutEvents"]
        Resource = [var.event_bus_arn]
        Condition = { StringEquals = {
          "events:source"      = var.publish_source
          "events:detail-type" = var.publish_detail_types
        } }
      },
    ])
  }
}

resource "aws_iam_role" "this" {
  name        = "${var.function_name}-role"
  description = "Execution role of ${var.function_name}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = jsonencode(local.policy)
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously (an SQS event-source mapping, a function URL) or by a schedule whose next run retries; failed messages go to the queue's redrive DLQ (a Lambda DLQ only applies to async invokes).
  #checkov:skip=CKV_AWS_117:Uses only regional AWS APIs (DynamoDB, EventBridge, SQS); no private resources to reach, so no VPC (and no NAT cost).
  function_name = var.function_name
  description   = var.description
  role          = aws_iam_role.this.arn
  handler       = var.handler
  runtime       = var.runtime
  architectures = [var.architecture]
  # A signed package (code signing) comes from the signing job's S3 object; otherwise the local zip.
  filename                       = var.package_s3 == null ? var.package_path : null
  source_code_hash               = var.package_s3 == null ? filebase64sha256(var.package_path) : null
  s3_bucket                      = try(var.package_s3.bucket, null)
  s3_key                         = try(var.package_s3.key, null)
  s3_object_version              = try(var.package_s3.object_version, null)
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_size
  reserved_concurrent_executions = var.reserved_concurrency
  kms_key_arn                    = var.kms_key_arn
  code_signing_config_arn        = var.code_signing_config_arn

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = var.tags

  # The policy must be in place before the first invocation, and the log group must exist (with
  # its retention and key) before Lambda would create an unencrypted one on first log line.
  depends_on = [aws_iam_role_policy.this, aws_cloudwatch_log_group.this]
}
