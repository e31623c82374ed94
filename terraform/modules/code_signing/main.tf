# Lambda code signing: the functions accept only packages signed by the allowed AWS Signer profiles.
# Without given profile versions, one profile for the AWS Lambda signing platform is created here; the
# deployment signs build/lambda.zip with it (aws signer start-signing-job) and deploys the signed object.
resource "aws_signer_signing_profile" "this" {
  count = length(var.signing_profile_version_arns) == 0 ? 1 : 0

  name_prefix = var.profile_name_prefix
  platform_id = "AWSLambda-SHA384-ECDSA"

  signature_validity_period {
    value = var.signature_validity_months
    type  = "MONTHS"
  }

  tags = var.tags
}

resource "aws_lambda_code_signing_config" "this" {
  description = var.description

  allowed_publishers {
    signing_profile_version_arns = length(var.signing_profile_version_arns) > 0 ? var.signing_profile_version_arns : [aws_signer_signing_profile.this[0].version_arn]
  }

  policies {
    untrusted_artifact_on_deployment = var.untrusted_artifact_on_deployment
  }
}
