# Shared mock data for the native tests of both environments: mock_provider fills computed attributes with
# random strings, so ARNs that other resources validate get fixed, distinct values here.
mock_data "aws_caller_identity" {
  defaults = { account_id = "123456789012" }
}
mock_data "aws_partition" {
  defaults = { partition = "aws" }
}
mock_data "aws_region" {
  defaults = { name = "us-east-2" }
}
mock_data "aws_cloudwatch_event_bus" {
  defaults = { arn = "arn:aws:events:us-east-2:123456789012:event-bus/default" }
}
mock_resource "aws_kms_key" {
  defaults = { arn = "arn:aws:kms:us-east-2:123456789012:key/11111111-2222-3333-4444-555555555555" }
}
mock_resource "aws_iam_role" {
  defaults = { arn = "arn:aws:iam::123456789012:role/mock-role" }
}
mock_resource "aws_sns_topic" {
  defaults = { arn = "arn:aws:sns:us-east-2:123456789012:novamart-payments-alarms" }
}
mock_resource "aws_cloudwatch_event_rule" {
  defaults = { arn = "arn:aws:events:us-east-2:123456789012:rule/mock-rule" }
}
mock_resource "aws_sqs_queue" {
  defaults = { arn = "arn:aws:sqs:us-east-2:123456789012:mock-queue" }
}
mock_resource "aws_lambda_function" {
  defaults = { arn = "arn:aws:lambda:us-east-2:123456789012:function:mock" }
}
mock_resource "aws_dynamodb_table" {
  defaults = { arn = "arn:aws:dynamodb:us-east-2:123456789012:table/mock" }
}
mock_resource "aws_secretsmanager_secret" {
  defaults = { arn = "arn:aws:secretsmanager:us-east-2:123456789012:secret:novamart/payments/stripe-secret-key-AbCdEf" }
}
mock_resource "aws_signer_signing_profile" {
  defaults = {
    arn         = "arn:aws:signer:us-east-2:123456789012:/signing-profiles/novamart_payments_mock"
    version_arn = "arn:aws:signer:us-east-2:123456789012:/signing-profiles/novamart_payments_mock/abcdef0123"
  }
}
mock_resource "aws_lambda_code_signing_config" {
  defaults = { arn = "arn:aws:lambda:us-east-2:123456789012:code-signing-config:csc-0123456789abcdef0" }
}
mock_resource "aws_cloudwatch_log_group" {
  defaults = { arn = "arn:aws:logs:us-east-2:123456789012:log-group:/aws/mock" }
}
mock_resource "aws_apigatewayv2_api" {
  defaults = {
    api_endpoint  = "https://mockapi.execute-api.us-east-2.amazonaws.com"
    execution_arn = "arn:aws:execute-api:us-east-2:123456789012:mockapi"
  }
}
