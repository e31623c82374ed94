output "rule_name" {
  description = "Name of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.name
}

output "rule_arn" {
  description = "ARN of the EventBridge rule."
  value       = aws_cloudwatch_event_rule.this.arn
}

output "event_pattern" {
  description = "The rule's event pattern (JSON)."
  value       = aws_cloudwatch_event_rule.this.event_pattern
}

output "queue_name" {
  description = "Name of the source queue."
  value       = aws_sqs_queue.this.name
}

output "queue_url" {
  description = "URL of the source queue."
  value       = aws_sqs_queue.this.url
}

output "queue_arn" {
  description = "ARN of the source queue."
  value       = aws_sqs_queue.this.arn
}

output "queue_policy_json" {
  description = "Policy of the source queue (JSON)."
  value       = aws_sqs_queue.this.policy
}

output "queue_redrive_policy" {
  description = "Redrive policy of the source queue (JSON)."
  value       = aws_sqs_queue.this.redrive_policy
}

output "visibility_timeout_seconds" {
  description = "Visibility timeout of the source queue."
  value       = aws_sqs_queue.this.visibility_timeout_seconds
}

output "dlq_name" {
  description = "Name of the DLQ."
  value       = aws_sqs_queue.dlq.name
}

output "dlq_url" {
  description = "URL of the DLQ."
  value       = aws_sqs_queue.dlq.url
}

output "dlq_arn" {
  description = "ARN of the DLQ."
  value       = aws_sqs_queue.dlq.arn
}

output "dlq_policy_json" {
  description = "Policy of the DLQ (JSON)."
  value       = aws_sqs_queue.dlq.policy
}

output "target_dead_letter_arn" {
  description = "DLQ of the rule target."
  value       = aws_cloudwatch_event_target.this.dead_letter_config[0].arn
}

output "target_arn" {
  description = "Target of the rule (the source queue)."
  value       = aws_cloudwatch_event_target.this.arn
}

output "event_source_mapping" {
  description = "Settings of the event-source mapping."
  value = {
    uuid                    = aws_lambda_event_source_mapping.this.uuid
    event_source_arn        = aws_lambda_event_source_mapping.this.event_source_arn
    function_name           = aws_lambda_event_source_mapping.this.function_name
    batch_size              = aws_lambda_event_source_mapping.this.batch_size
    function_response_types = aws_lambda_event_source_mapping.this.function_response_types
    maximum_concurrency     = aws_lambda_event_source_mapping.this.scaling_config[0].maximum_concurrency
  }
}

output "dlq_redrive_allow_policy" {
  description = "The DLQ's redrive_allow_policy (JSON; null when not restricted)."
  value       = aws_sqs_queue.dlq.redrive_allow_policy
}
