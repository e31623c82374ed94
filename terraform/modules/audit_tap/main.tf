# Everything the service publishes (source novamart.payments) -> an encrypted queue, readable by the
# behaviour suite and by auditors. Undeliverable events and over-read messages go to a DLQ.
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  count      = var.enabled ? 1 : 0
  arn_prefix = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  queue_name = var.name
  dlq_name   = "${var.name}-dlq"

  event_pattern = jsonencode({ source = [var.source_name] })

  policies = var.enabled ? {
    for q in [local.queue_name, local.dlq_name] : q => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "DenyInsecureTransport"
          Effect    = "Deny"
          Principal = "*"
          Action    = "sqs:*"
          Resource  = "${local.arn_prefix}:${q}"
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
        {
          Sid       = "AllowAuditRule"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sqs:SendMessage"
          Resource  = "${local.arn_prefix}:${q}"
          Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this[0].arn } }
        },
      ]
    })
  } : {}
}

resource "aws_cloudwatch_event_rule" "this" {
  count = local.count

  name           = var.name
  description    = "Everything ${var.source_name} publishes, for audit and tests"
  event_bus_name = var.event_bus_name
  event_pattern  = local.event_pattern
  tags           = var.tags
}

resource "aws_sqs_queue" "dlq" {
  count = local.count

  name                              = local.dlq_name
  message_retention_seconds         = 1209600
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  policy                            = local.policies[local.dlq_name]
  # Only the audit queue may dead-letter into this DLQ.
  redrive_allow_policy = var.restrict_dlq_sources ? jsonencode({ redrivePermission = "byQueue", sourceQueueArns = ["${local.arn_prefix}:${local.queue_name}"] }) : null
  tags                 = var.tags
}

resource "aws_sqs_queue" "this" {
  count = local.count

  name                              = local.queue_name
  message_retention_seconds         = var.message_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  policy                            = local.policies[local.queue_name]
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[0].arn
    maxReceiveCount     = var.max_receive_count
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  count = local.count

  rule           = aws_cloudwatch_event_rule.this[0].name
  event_bus_name = var.event_bus_name
  target_id      = "sqs-${local.queue_name}"
  arn            = aws_sqs_queue.this[0].arn

  retry_policy {
    maximum_retry_attempts       = 24
    maximum_event_age_in_seconds = 3600
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq[0].arn
  }
}
