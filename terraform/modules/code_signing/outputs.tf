output "code_signing_config_arn" {
  description = "ARN of the code signing configuration to attach to the functions."
  value       = aws_lambda_code_signing_config.this.arn
}

output "signing_profile_name" {
  description = "Name of the created signing profile (null when existing profiles were given); sign the package with it."
  value       = try(aws_signer_signing_profile.this[0].name, null)
}

output "untrusted_artifact_on_deployment" {
  description = "The enforcement policy (Enforce or Warn)."
  value       = aws_lambda_code_signing_config.this.policies[0].untrusted_artifact_on_deployment
}
