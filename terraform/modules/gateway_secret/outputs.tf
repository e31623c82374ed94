output "secret_arn" {
  description = "ARN of the Stripe key secret (the one resource the functions may read a secret from)."
  value       = aws_secretsmanager_secret.this.arn
}

output "secret_name" {
  description = "Name of the Stripe key secret."
  value       = aws_secretsmanager_secret.this.name
}
