output "payment_table_name" {
  description = "Name of the payments table (PAYMENT_TABLE_NAME)."
  value       = module.service.payment_table_name
}

output "refund_table_name" {
  description = "Name of the refunds table (REFUND_TABLE_NAME)."
  value       = module.service.refund_table_name
}

output "event_bus_name" {
  description = "Name of the bus (EVENT_BUS_NAME)."
  value       = module.service.event_bus_name
}

output "audit_queue_url" {
  description = "URL of the audit queue (null when the tap is off)."
  value       = module.service.audit_queue_url
}

output "functions" {
  description = "Map keyed payment / refund of { function_name, queue_url, queue_arn, dlq_url, dlq_arn }."
  value       = module.service.functions
}

output "lambda_timeout_seconds" {
  description = "Lambda timeout per function."
  value       = module.service.lambda_timeout_seconds
}

output "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of each function's source queue."
  value       = module.service.queue_visibility_timeout_seconds
}

output "code_signing_profile_name" {
  description = "Signing profile to sign build/lambda.zip with (null when existing profiles were given)."
  value       = one(module.code_signing[*].signing_profile_name)
}

output "code_signing_config_arn" {
  description = "Code signing configuration attached to both functions."
  value       = one(module.code_signing[*].code_signing_config_arn)
}

output "webhook_url" {
  description = "The webhook function's URL (register it in Stripe; locally the local Lambda service serves it on loopback)."
  value       = module.service.webhook_url
}

output "later_functions" {
  description = "The webhook and reconciliation functions: names, the webhook URL and its id, the reconciliation schedule."
  value       = module.service.later_functions
}

output "webhook_event_table_name" {
  description = "Name of the table of handled Stripe events (WEBHOOK_EVENT_TABLE_NAME)."
  value       = module.service.webhook_event_table_name
}

output "artifact_bucket" {
  description = "The versioned bucket make deploy uploads build/lambda.zip to and signs it in."
  value       = module.artifacts.bucket
}

output "secret_names" {
  description = "Secrets whose values are set outside Terraform (docs/go-live.md): api_key and webhook_signing."
  value       = module.service.secret_names
}

output "alarm_topic_arn" {
  description = "The topic every alarm notifies (subscribe on-call to it)."
  value       = module.service.alarm_topic_arn
}

output "event_archive_name" {
  description = "Name of the archive of published events (make replay reads it; null when off)."
  value       = module.service.event_archive_name
}

output "concurrency" {
  description = "Each mapping's maximum concurrency and each function's reservation, with what sized them (gateway budget, requests per payment, assumed latency)."
  value       = module.service.concurrency
}
