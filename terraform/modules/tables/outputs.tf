output "payment_table_name" {
  description = "Name of the payments table."
  value       = aws_dynamodb_table.this["payments"].name
}

output "refund_table_name" {
  description = "Name of the refunds table."
  value       = aws_dynamodb_table.this["refunds"].name
}

output "table_arns" {
  description = "ARNs of both tables, keyed payments / refunds."
  value       = { for k, t in aws_dynamodb_table.this : k => t.arn }
}

output "index_arns" {
  description = "ARNs of the orderId-index GSI of both tables, keyed payments / refunds."
  value       = { for k, t in aws_dynamodb_table.this : k => "${t.arn}/index/${local.gsi_name}" }
}

output "gsi_name" {
  description = "Name of the GSI on orderId (same on both tables)."
  value       = local.gsi_name
}
