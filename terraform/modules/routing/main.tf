# EventBridge rule (exact source + detail-type pairs) -> encrypted SQS queue (redrive to a DLQ)
# -> Lambda event-source mapping with partial batch failures and a concurrency cap.
#
# Queue policies are set inline on the queues (not as aws_sqs_queue_policy) with the queue ARN
# computed from its name: each SQS create/attribute change waits ~25 s in the provider, so this
# keeps the chain at DLQ -> queue.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  queue_arn  = "${local.arn_prefix}:${var.queue_name}"
  dlq_arn    = "${local.arn_prefix}:${var.dlq_name}"

  visibility_timeout_seconds = var.lambda_timeout_seconds * var.visibility_timeout_multiplier

  # One alternative per source, so a source only ever matches its own detail-types.
  alternatives  = [for c in var.consumes : { source = [c.source], "detail-type" = c.detail_types }]
  event_pattern = length(local.alternatives) == 1 ? jsonencode(local.alternatives[0]) : jsonencode({ "$or" = local.alternatives })

  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "sqs:*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }

  allow_rule = {
    Sid       = "AllowConsumedRule"
    Effect    = "Allow"
    Principal = { Service = "events.amazonaws.com" }
    Action    = "sqs:SendMessage"
    Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this.arn } }
  }

  queue_policy = {
    Version   = "2012-10-17"
    Statement = [merge(local.deny_insecure_transport, { Resource = local.queue_arn }), merge(local.allow_rule, { Resource = local.queue_arn })]
  }

  # The DLQ also receives what the rule target cannot deliver (target dead_letter_config).
  dlq_policy = {
    Version   = "2012-10-17"
    Statement = [merge(local.deny_insecure_transport, { Resource = local.dlq_arn }), merge(local.allow_rule, { Resource = local.dlq_arn, Sid = "AllowUndeliverableFromRule" })]
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  name           = "${var.name}-consumed"
  description    = "Events consumed by ${var.function_name}"
  event_bus_name = var.event_bus_name
  event_pattern  = local.event_pattern
  tags           = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                              = var.dlq_name
  message_retention_seconds         = var.dlq_message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  policy                            = jsonencode(local.dlq_policy)
  # Only the function's own queue may dead-letter into this DLQ.
  redrive_allow_policy = var.restrict_dlq_sources ? jsonencode({ redrivePermission = "byQueue", sourceQueueArns = [local.queue_arn] }) : null
  tags                 = var.tags
}

resource "aws_sqs_queue" "this" {
  name                              = var.queue_name
  visibility_timeout_seconds        = local.visibility_timeout_seconds
  message_retention_seconds         = var.message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  policy                            = jsonencode(local.queue_policy)
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = var.event_bus_name
  target_id      = "sqs-${var.queue_name}"
  arn            = aws_sqs_queue.this.arn

  retry_policy {
    maximum_retry_attempts       = var.target_retry_attempts
    maximum_event_age_in_seconds = var.target_maximum_event_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_lambda_event_source_mapping" "this" {
  event_source_arn                   = aws_sqs_queue.this.arn
  function_name                      = var.function_name
  batch_size                         = var.batch_size
  maximum_batching_window_in_seconds = var.maximum_batching_window_seconds
  function_response_types            = ["ReportBatchItemFailures"]
  enabled                            = true

  scaling_config {
    maximum_concurrency = var.maximum_concurrency
  }
}
