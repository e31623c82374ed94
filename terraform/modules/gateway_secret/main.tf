# A Stripe secret of the service (the API key of the gateway adapter, or the webhook signing secret), in Secrets
# Manager, encrypted with the service key.
# In AWS its value is set outside Terraform (docs/gateway.md), so the key never enters the state; locally the
# apply stores localstripe's test key, which is not a secret.
resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:A Stripe key is rolled in Stripe's dashboard, not by a rotation Lambda; the new key is put into this secret (docs/gateway.md) and the functions pick it up within the 5-minute Parameters cache.
  name                    = var.name
  description             = var.description
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "test_key" {
  count = var.test_key == null ? 0 : 1

  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = var.test_key
}
