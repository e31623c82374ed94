# The risk check's data (issue 20): the rules document in SSM Parameter Store, set from var.rules (checked at plan
# and apply below, and again by the functions at every read against lambda_src/novamart_payments/risk/
# rules.schema.json), and the counters' table. A rules change is `terraform apply` of this parameter only: the
# functions read it through Powertools Parameters and use it within their cache TTL, with no deploy of code.
resource "aws_ssm_parameter" "rules" {
  #checkov:skip=CKV2_AWS_34:The rules hold no secret (limits, customer ids and SHA-256 hashes of tokens, never a token); a String parameter keeps them readable by on-call (docs/risk.md) and needs no key grant through SSM.
  name        = var.parameter_name
  description = "NovaMart Payments risk rules (docs/risk.md); checked at plan and at every read."
  type        = "String"
  tier        = "Standard"
  value       = jsonencode(jsondecode(var.rules))
  tags        = var.tags
}

# One item per customer (an attribute per counted order) and per token and day (an attribute per customer):
# counted once per order with conditional updates, forgotten by TTL once no window reaches them.
resource "aws_dynamodb_table" "counters" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
