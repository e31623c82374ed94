output "url" {
  description = "The endpoint to register in Stripe (Dashboard > Developers > Webhooks)."
  value       = aws_lambda_function_url.this.function_url
}

output "url_id" {
  description = "The URL's id (the first label of its host), which the emulators route by."
  value       = aws_lambda_function_url.this.url_id
}
