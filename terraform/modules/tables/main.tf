# The service's tables. Payments and refunds are keyed by a deterministic uuid5 (see docs/design.md) and have an
# `orderId-index` GSI so the handlers can find an order's payment and refunds. Both also have the sparse
# `unfinished` index (openStatus + openSince, present only on PENDING / REQUIRES_ACTION payments and PENDING
# refunds) that reconciliation queries instead of scanning. The webhook-events table remembers the Stripe events already
# handled, forgotten by TTL.
locals {
  gsi_name        = "orderId-index"
  unfinished_name = "unfinished"

  tables = {
    payments = { name = var.payment_table_name, hash_key = "paymentId", unfinished_index = true }
    refunds  = { name = var.refund_table_name, hash_key = "refundId", unfinished_index = true }
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = local.tables

  name                        = each.value.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = each.value.hash_key
    type = "S"
  }

  attribute {
    name = "orderId"
    type = "S"
  }

  global_secondary_index {
    name            = local.gsi_name
    hash_key        = "orderId"
    projection_type = "ALL"
  }

  dynamic "attribute" {
    for_each = each.value.unfinished_index ? ["openStatus", "openSince"] : []
    content {
      name = attribute.value
      type = "S"
    }
  }

  dynamic "global_secondary_index" {
    for_each = each.value.unfinished_index ? [local.unfinished_name] : []
    content {
      name            = global_secondary_index.value
      hash_key        = "openStatus"
      range_key       = "openSince"
      projection_type = "ALL"
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

resource "aws_dynamodb_table" "webhook_events" {
  name                        = var.webhook_event_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "eventId"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "eventId"
    type = "S"
  }

  # A handled event is remembered for a week (Stripe retries a delivery for three days), then forgotten.
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
