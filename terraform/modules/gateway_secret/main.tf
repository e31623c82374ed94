# The Stripe secret key of the gateway adapter, in Secrets Manager, encrypted with the service key.
# In AWS its value is set outside Terraform (docs/gateway.md), so the key never enters the state; locally the
# apply stores localstripe's test key, which is not a secret.
resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:A Stripe key is rolled in Stripe's dashboard, not by a Lambda rotator; the new key is put with put-secret-value and read within 5 minutes (docs/gateway.md, Secrets).
  name                    = var.name
  description             = "Stripe secret (or restricted) key of the NovaMart payment functions"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "test_key" {
  count = var.test_key == null ? 0 : 1

  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = var.test_key
}
