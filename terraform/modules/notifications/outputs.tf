output "topic_arn" {
  description = "ARN of the alarm topic."
  value       = aws_sns_topic.this.arn
}

output "topic_policy_json" {
  description = "Policy of the alarm topic (JSON)."
  value       = aws_sns_topic_policy.this.policy
}

output "subscriptions" {
  description = "The topic's subscriptions as protocol:endpoint."
  value       = keys(aws_sns_topic_subscription.this)
}
