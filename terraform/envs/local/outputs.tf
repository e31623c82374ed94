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

output "event_archive_name" {
  description = "Name of the archive of published events (make replay reads it; null when off)."
  value       = module.service.event_archive_name
}
