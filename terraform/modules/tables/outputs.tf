output "payment_table_name" {
  description = "Name of the payments table."
  value       = aws_dynamodb_table.this["payments"].name
}

output "refund_table_name" {
  description = "Name of the refunds table."
  value       = aws_dynamodb_table.this["refunds"].name
}

output "table_arns" {
  description = "ARNs of the tables, keyed payments / refunds / webhook_events."
  value       = merge({ for k, t in aws_dynamodb_table.this : k => t.arn }, { webhook_events = aws_dynamodb_table.webhook_events.arn })
}

output "webhook_event_table_name" {
  description = "Name of the table of handled Stripe events."
  value       = aws_dynamodb_table.webhook_events.name
}

output "unfinished_index_arn" {
  description = "ARN of the payments table's sparse index of unfinished payments (reconciliation queries it)."
  value       = "${aws_dynamodb_table.this["payments"].arn}/index/${local.unfinished_name}"
}

output "refund_unfinished_index_arn" {
  description = "ARN of the refunds table's sparse index of PENDING refunds (reconciliation queries it)."
  value       = "${aws_dynamodb_table.this["refunds"].arn}/index/${local.unfinished_name}"
}

output "index_arns" {
  description = "ARNs of the orderId-index GSI of both tables, keyed payments / refunds."
  value       = { for k, t in aws_dynamodb_table.this : k => "${t.arn}/index/${local.gsi_name}" }
}

output "gsi_name" {
  description = "Name of the GSI on orderId (same on both tables)."
  value       = local.gsi_name
}

output "deletion_protection" {
  description = "Deletion protection per table, keyed payments / refunds."
  value       = { for k, t in aws_dynamodb_table.this : k => t.deletion_protection_enabled }
}

output "point_in_time_recovery" {
  description = "Point-in-time recovery per table, keyed payments / refunds."
  value       = { for k, t in aws_dynamodb_table.this : k => t.point_in_time_recovery[0].enabled }
}

output "encryption_key_arns" {
  description = "KMS key of each table's server-side encryption, keyed payments / refunds."
  value       = { for k, t in aws_dynamodb_table.this : k => t.server_side_encryption[0].kms_key_arn }
}
