output "url" {
  description = "The endpoint to register in Stripe (Dashboard > Developers > Webhooks)."
  value       = var.kind == "http_api" ? "${aws_apigatewayv2_api.this[0].api_endpoint}${var.route_path}" : aws_lambda_function_url.this[0].function_url
}

output "url_id" {
  description = "The function URL's id (the first label of its host), which the emulators route by; null with an HTTP API."
  value       = var.kind == "function_url" ? aws_lambda_function_url.this[0].url_id : null
}

output "kind" {
  description = "http_api or function_url."
  value       = var.kind
}

output "invoke_permissions" {
  description = "Every resource-policy statement this module adds to the function, for tests: statement_id, action, principal, source_arn, function_url_auth_type."
  value = [for p in concat(aws_lambda_permission.http_api, aws_lambda_permission.public_url) : {
    statement_id           = p.statement_id
    action                 = p.action
    principal              = p.principal
    source_arn             = p.source_arn
    function_url_auth_type = p.function_url_auth_type
  }]
}

output "throttling" {
  description = "The route's throttling (null with a function URL)."
  value       = var.kind == "http_api" ? one(aws_apigatewayv2_stage.this[0].default_route_settings) : null
}

output "access_log_group_name" {
  description = "Log group of the HTTP API's access log (null with a function URL)."
  value       = var.kind == "http_api" ? aws_cloudwatch_log_group.access[0].name : null
}

output "route_key" {
  description = "The HTTP API's one route (null with a function URL)."
  value       = var.kind == "http_api" ? aws_apigatewayv2_route.this[0].route_key : null
}
