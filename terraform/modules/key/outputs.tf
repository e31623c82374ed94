output "key_arn" {
  description = "ARN of the customer-managed key."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the customer-managed key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Full alias name (alias/...)."
  value       = aws_kms_alias.this.name
}

output "key_policy" {
  description = "The key policy JSON (for tests and reviews)."
  value       = aws_kms_key.this.policy
}

output "rotation_enabled" {
  description = "Whether automatic key rotation is on."
  value       = aws_kms_key.this.enable_key_rotation
}

output "deletion_window_in_days" {
  description = "Deletion window of the key."
  value       = aws_kms_key.this.deletion_window_in_days
}
