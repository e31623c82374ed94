# The rules document is refused at plan (and so at apply) when it breaks the schema's main rules
# (lambda_src/novamart_payments/risk/rules.schema.json checks it in full at every read).
mock_provider "aws" {
  source = "../../testing/aws"
}

variables {
  parameter_name = "/novamart-payments/risk-rules"
  table_name     = "novamart-payments-risk-counters"
  kms_key_arn    = "arn:aws:kms:us-east-2:123456789012:key/00000000-0000-0000-0000-000000000000"
  rules          = <<-JSON
    {"version": 1,
     "blockList": {"customers": ["cus-blocked-1"],
                   "tokenSha256": ["dd1a34a0a99efcbaeff09bbaa684091b7936e05669c167b9d6a92686c7bffa97"]},
     "amountLimits": {"USD": 500000, "JPY": 100000},
     "velocity": [{"name": "orders-per-hour", "windowSeconds": 3600, "maxOrders": 10},
                  {"name": "amount-per-day", "windowSeconds": 86400, "maxAmount": {"USD": 1000000}}],
     "maxCustomersPerTokenPerDay": 3}
  JSON
}

run "a_valid_document_is_stored_as_given" {
  command = plan
  assert {
    condition     = jsondecode(aws_ssm_parameter.rules.value).velocity[0].maxOrders == 10
    error_message = "the parameter must hold the document"
  }
  assert {
    condition     = aws_dynamodb_table.counters.ttl[0].attribute_name == "expiresAt"
    error_message = "the counters expire by TTL"
  }
}

run "not_json_is_refused" {
  command = plan
  variables { rules = "{not json" }
  expect_failures = [var.rules]
}

run "an_unknown_key_is_refused" {
  command = plan
  variables { rules = "{\"version\": 1, \"blocklist\": {}}" }
  expect_failures = [var.rules]
}

run "a_negative_amount_limit_is_refused" {
  command = plan
  variables { rules = "{\"version\": 1, \"amountLimits\": {\"USD\": -5}}" }
  expect_failures = [var.rules]
}

run "a_velocity_rule_without_a_limit_is_refused" {
  command = plan
  variables { rules = "{\"version\": 1, \"velocity\": [{\"name\": \"x\", \"windowSeconds\": 3600}]}" }
  expect_failures = [var.rules]
}

run "a_raw_token_in_the_block_list_is_refused" {
  command = plan
  variables { rules = "{\"version\": 1, \"blockList\": {\"tokenSha256\": [\"pm_card_visa\"]}}" }
  expect_failures = [var.rules]
}
