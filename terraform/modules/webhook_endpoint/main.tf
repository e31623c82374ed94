# The webhook function's public HTTPS endpoint: an API Gateway HTTP API in AWS, a Lambda function URL locally.
#
# Stripe is the only caller and authenticates every request with its own HMAC signature (Stripe-Signature), which
# the function verifies before it reads or writes anything; Stripe cannot sign SigV4, so the endpoint is public
# either way. Why an HTTP API in AWS (docs/gateway.md, "The webhook endpoint"):
#   - since October 2025 a function URL with auth NONE needs lambda:InvokeFunction in the resource policy as well,
#     and the only safe form of that grant carries the lambda:InvokedViaFunctionUrl condition, which
#     aws_lambda_permission cannot express in hashicorp/aws 5.x (the only provider here);
#   - the HTTP API invokes the function as apigateway.amazonaws.com, from this API's one route only (source ARN),
#     so no statement lets any other principal or path invoke the function;
#   - its stage throttles the route, so a flood is refused at the edge with 429 before it reaches the function.
# The function URL stays for the emulators (kind = "function_url"): the local Lambda service and MiniStack serve
# it, and neither enforces resource policies.
locals {
  http_api     = var.kind == "http_api"
  function_url = var.kind == "function_url"
  route_key    = "POST ${var.route_path}"
}

resource "aws_lambda_function_url" "this" {
  #checkov:skip=CKV_AWS_258:Emulator endpoint only (envs/local); Stripe cannot sign SigV4, every request is authenticated by its Stripe-Signature HMAC in the function.
  count = local.function_url ? 1 : 0

  function_name      = var.function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

# A URL with auth NONE needs a resource policy that lets anyone invoke it through the URL (enough for the
# emulators; on AWS the HTTP API below is used instead).
resource "aws_lambda_permission" "public_url" {
  #checkov:skip=CKV_AWS_301:Emulator endpoint only (envs/local), public only through the function URL; the function refuses any request without a valid, fresh Stripe-Signature.
  count = local.function_url ? 1 : 0

  statement_id           = "StripeWebhooksThroughFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = var.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

resource "aws_apigatewayv2_api" "this" {
  count = local.http_api ? 1 : 0

  name          = var.api_name
  description   = "Stripe webhooks of ${var.function_name}"
  protocol_type = "HTTP"
  # Only the stage's invoke URL (the route below); no execute-api default for another stage.
  tags = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  count = local.http_api ? 1 : 0

  api_id                 = aws_apigatewayv2_api.this[0].id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.function_arn
  integration_method     = "POST"
  payload_format_version = "2.0" # the function URL's event format: the handler reads both alike
  timeout_milliseconds   = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:Stripe cannot sign SigV4 or send a token; every request is authenticated by its Stripe-Signature HMAC in the function, before anything is read or written.
  count = local.http_api ? 1 : 0

  api_id    = aws_apigatewayv2_api.this[0].id
  route_key = local.route_key
  target    = "integrations/${aws_apigatewayv2_integration.this[0].id}"
}

resource "aws_cloudwatch_log_group" "access" {
  count = local.http_api ? 1 : 0

  name              = var.access_log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  count = local.http_api ? 1 : 0

  api_id      = aws_apigatewayv2_api.this[0].id
  name        = "$default"
  auto_deploy = true

  # A flood is answered 429 here and never reaches the function (nor its reserved concurrency); Stripe retries
  # refused deliveries for 3 days.
  default_route_settings {
    throttling_rate_limit  = var.throttling_rate_limit
    throttling_burst_limit = var.throttling_burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access[0].arn
    format = jsonencode({
      requestId        = "$context.requestId", ip = "$context.identity.sourceIp", requestTime = "$context.requestTime"
      routeKey         = "$context.routeKey", status = "$context.status", responseLength = "$context.responseLength"
      integrationError = "$context.integrationErrorMessage", integrationLatency = "$context.integrationLatency"
    })
  }

  tags = var.tags
}

# The only way in: API Gateway, for this API's one route (any stage of it), nothing else.
resource "aws_lambda_permission" "http_api" {
  count = local.http_api ? 1 : 0

  statement_id  = "StripeWebhooksThroughHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this[0].execution_arn}/*/POST${var.route_path}"
}

# The function URL and its permission had no count before the HTTP API came (issue 25): an existing local state
# keeps them instead of replacing them.
moved {
  from = aws_lambda_function_url.this
  to   = aws_lambda_function_url.this[0]
}

moved {
  from = aws_lambda_permission.public_url
  to   = aws_lambda_permission.public_url[0]
}
