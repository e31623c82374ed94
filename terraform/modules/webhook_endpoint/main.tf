# The webhook function's public HTTPS endpoint: a Lambda function URL.
#
# Why a function URL and not an API Gateway HTTP API: Stripe is the only caller and it authenticates every request
# with its own HMAC signature (Stripe-Signature), which the function verifies before it reads or writes anything;
# IAM (SigV4) auth is impossible for Stripe, so the URL is public (auth NONE) either way. A function URL is one
# resource with no extra service, cost or latency, and the emulators serve it too; an HTTP API would add only
# throttling and custom domains, which this endpoint does not need (Lambda's reserved concurrency caps it).
resource "aws_lambda_function_url" "this" {
  #checkov:skip=CKV_AWS_258:Stripe cannot sign SigV4; every request is authenticated by its Stripe-Signature HMAC in the function, before anything is read or written.
  function_name      = var.function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

# A URL with auth NONE still needs a resource policy that lets anyone invoke it through the URL (and only that way).
resource "aws_lambda_permission" "public_url" {
  #checkov:skip=CKV_AWS_301:Public only through the function URL (function_url_auth_type NONE); Stripe cannot sign SigV4, and the function refuses any request without a valid, fresh Stripe-Signature before reading or writing anything.
  statement_id           = "StripeWebhooksThroughFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = var.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}
