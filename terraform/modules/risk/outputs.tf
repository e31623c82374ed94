output "parameter_name" {
  description = "Name of the SSM parameter holding the rules document (RISK_RULES_PARAMETER_NAME)."
  value       = aws_ssm_parameter.rules.name
}

output "parameter_arn" {
  description = "ARN of the rules parameter (the payment function may read it: ssm:GetParameter)."
  value       = aws_ssm_parameter.rules.arn
}

output "table_name" {
  description = "Name of the counters' table (RISK_TABLE_NAME)."
  value       = aws_dynamodb_table.counters.name
}

output "table_arn" {
  description = "ARN of the counters' table."
  value       = aws_dynamodb_table.counters.arn
}
