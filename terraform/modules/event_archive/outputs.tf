output "name" {
  description = "Name of the archive (null when off)."
  value       = one(aws_cloudwatch_event_archive.this[*].name)
}

output "arn" {
  description = "ARN of the archive (null when off)."
  value       = one(aws_cloudwatch_event_archive.this[*].arn)
}
