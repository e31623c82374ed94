output "enabled" {
  description = "Whether the tap exists."
  value       = var.enabled
}

output "event_pattern" {
  description = "Pattern of the audit rule (null when off)."
  value       = one(aws_cloudwatch_event_rule.this[*].event_pattern)
}

output "queue_url" {
  description = "URL of the audit queue (null when off)."
  value       = one(aws_sqs_queue.this[*].url)
}

output "queue_arn" {
  description = "ARN of the audit queue (null when off)."
  value       = one(aws_sqs_queue.this[*].arn)
}

output "dlq_arn" {
  description = "ARN of the audit DLQ (null when off)."
  value       = one(aws_sqs_queue.dlq[*].arn)
}

output "queue_redrive_policy" {
  description = "Redrive policy of the audit queue (null when off)."
  value       = one(aws_sqs_queue.this[*].redrive_policy)
}

output "policies" {
  description = "Queue policies (JSON) keyed by queue name."
  value       = local.policies
}
