output "function_name" {
  description = "Name of the function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the function (available once its role policy exists)."
  value       = aws_lambda_function.this.arn
}

output "role_arn" {
  description = "ARN of the execution role."
  value       = aws_iam_role.this.arn
}

output "role_policy_json" {
  description = "The execution role's inline policy (JSON), for tests and reviews."
  value       = aws_iam_role_policy.this.policy
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "timeout_seconds" {
  description = "Lambda timeout in seconds."
  value       = aws_lambda_function.this.timeout
}

output "code_signing_config_arn" {
  description = "Code signing configuration attached to the function (null when unsigned)."
  value       = aws_lambda_function.this.code_signing_config_arn
}

output "reserved_concurrency" {
  description = "Reserved concurrent executions of the function."
  value       = aws_lambda_function.this.reserved_concurrent_executions
}
