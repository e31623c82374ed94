output "rule_name" {
  description = "Name of the schedule rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "schedule_expression" {
  description = "The rule's schedule (the local Lambda service runs it at this rate)."
  value       = aws_cloudwatch_event_rule.this.schedule_expression
}

output "invoke_permission" {
  description = "The resource-policy statement that lets the schedule invoke the function, for tests."
  value = {
    statement_id = aws_lambda_permission.this.statement_id
    action       = aws_lambda_permission.this.action
    principal    = aws_lambda_permission.this.principal
    source_arn   = aws_lambda_permission.this.source_arn
  }
}
