# The service's two tables. Both are keyed by a deterministic uuid5 (see docs/design.md) and have an
# `orderId-index` GSI so the handlers can find an order's payment and refunds.
locals {
  gsi_name = "orderId-index"

  tables = {
    payments = { name = var.payment_table_name, hash_key = "paymentId" }
    refunds  = { name = var.refund_table_name, hash_key = "refundId" }
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

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
