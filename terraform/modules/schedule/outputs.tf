output "rule_name" {
  description = "Name of the schedule rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "schedule_expression" {
  description = "The rule's schedule (the local Lambda service runs it at this rate)."
  value       = aws_cloudwatch_event_rule.this.schedule_expression
}
