output "payment_table_name" {
  description = "Name of the payments table."
  value       = module.tables.payment_table_name
}

output "refund_table_name" {
  description = "Name of the refunds table."
  value       = module.tables.refund_table_name
}

output "event_bus_name" {
  description = "Name of the bus the service uses."
  value       = var.event_bus_name
}

output "audit_queue_url" {
  description = "URL of the audit queue (null when the tap is off)."
  value       = module.audit_tap.queue_url
}

output "functions" {
  description = "Per function (payment / refund): function_name, queue_url, queue_arn, dlq_url, dlq_arn."
  value = {
    for k in keys(local.functions) : k => {
      function_name = module.function[k].function_name
      queue_url     = module.routing[k].queue_url
      queue_arn     = module.routing[k].queue_arn
      dlq_url       = module.routing[k].dlq_url
      dlq_arn       = module.routing[k].dlq_arn
    }
  }
}

output "webhook_url" {
  description = "The webhook function's URL: register it in Stripe with the events of docs/gateway.md."
  value       = module.webhook_endpoint.url
}

output "later_functions" {
  description = "The functions no queue feeds: webhooks { function_name, url, url_id } and reconciler { function_name, schedule }."
  value = {
    webhooks = {
      function_name = module.function["webhooks"].function_name
      url           = module.webhook_endpoint.url
      url_id        = module.webhook_endpoint.url_id
    }
    reconciler = {
      function_name = module.function["reconciler"].function_name
      schedule      = module.reconcile_schedule.schedule_expression
      rule_name     = module.reconcile_schedule.rule_name
    }
  }
}

output "webhook_event_table_name" {
  description = "Name of the table of handled Stripe events."
  value       = module.tables.webhook_event_table_name
}

output "lambda_timeout_seconds" {
  description = "Lambda timeout per function (payment / refund)."
  value       = { for k in keys(local.functions) : k => module.function[k].timeout_seconds }
}

output "queue_visibility_timeout_seconds" {
  description = "Visibility timeout of each function's source queue (payment / refund)."
  value       = { for k in keys(local.functions) : k => module.routing[k].visibility_timeout_seconds }
}

output "kms_key_arn" {
  description = "ARN of the service key."
  value       = module.key.key_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.dashboard.dashboard_name
}

output "alarm_topic_arn" {
  description = "Topic receiving the alarms."
  value       = local.alarm_topic_arn
}

output "secret_names" {
  description = "Secrets whose values are set outside Terraform: api_key (the Stripe key) and webhook_signing (the endpoint's whsec_)."
  value = {
    api_key         = var.stripe_secret_name
    webhook_signing = var.stripe_webhook_secret_name
  }
}

output "schema_registry_name" {
  description = "Name of the schema registry (null when off)."
  value       = module.schema_registry.registry_name
}

# Not a contract for other code: the details the Terraform tests assert on.
output "wiring" {
  description = "Routing, policies and alarms as planned, for terraform test assertions."
  value = {
    consumes = { for k, f in local.functions : k => f.consumes }
    routing = {
      for k in keys(local.functions) : k => {
        rule_name                = module.routing[k].rule_name
        event_pattern            = module.routing[k].event_pattern
        target_arn               = module.routing[k].target_arn
        target_dead_letter_arn   = module.routing[k].target_dead_letter_arn
        queue_arn                = module.routing[k].queue_arn
        queue_redrive_policy     = module.routing[k].queue_redrive_policy
        dlq_arn                  = module.routing[k].dlq_arn
        queue_policy_json        = module.routing[k].queue_policy_json
        dlq_policy_json          = module.routing[k].dlq_policy_json
        dlq_redrive_allow_policy = module.routing[k].dlq_redrive_allow_policy
        event_source_mapping     = module.routing[k].event_source_mapping
        function_arn             = module.function[k].function_arn
        visibility_timeout       = module.routing[k].visibility_timeout_seconds
      }
    }
    audit = {
      enabled              = module.audit_tap.enabled
      event_pattern        = module.audit_tap.event_pattern
      queue_arn            = module.audit_tap.queue_arn
      dlq_arn              = module.audit_tap.dlq_arn
      queue_redrive_policy = module.audit_tap.queue_redrive_policy
      policies             = module.audit_tap.policies
    }
    function_policies = { for k in keys(local.all_functions) : k => module.function[k].role_policy_json }
    budget_table_arn  = local.table_arns["webhook_events"]
    code_signing      = { for k in keys(local.all_functions) : k => module.function[k].code_signing_config_arn }
    webhook_endpoint = {
      kind                  = module.webhook_endpoint.kind
      route_key             = module.webhook_endpoint.route_key
      throttling            = module.webhook_endpoint.throttling
      access_log_group_name = module.webhook_endpoint.access_log_group_name
    }
    # Every statement of every function's resource policy, keyed by function (who may invoke it, from where).
    invoke_permissions = {
      webhooks   = module.webhook_endpoint.invoke_permissions
      reconciler = [module.reconcile_schedule.invoke_permission]
    }
    key_policy          = module.key.key_policy
    topic_policies      = [for n in module.notifications : n.topic_policy_json]
    alarms              = module.alarms.alarm_dimensions
    dashboard_metrics   = module.dashboard.metrics
    dashboard_functions = module.dashboard.functions
    alarm_subscriptions = flatten([for n in module.notifications : n.subscriptions])
    alarm_topic_arn     = local.alarm_topic_arn
    environment         = local.environment
    queue_names         = local.queue_names
    dlq_names           = local.dlq_names
    protections = {
      deletion_protection    = module.tables.deletion_protection
      point_in_time_recovery = module.tables.point_in_time_recovery
      table_key_arns         = module.tables.encryption_key_arns
      key_arn                = module.key.key_arn
      key_rotation           = module.key.rotation_enabled
      key_deletion_window    = module.key.deletion_window_in_days
      schema_registry        = module.schema_registry.registry_name
      schemas                = module.schema_registry.schema_names
    }
  }
}

output "event_archive_name" {
  description = "Name of the archive of published events (make replay reads it; null when off)."
  value       = module.event_archive.name
}

output "concurrency" {
  description = "The gateway-sized concurrency: budget, requests per payment, assumed latency, payments/s at the budget, each mapping's maximum concurrency and each function's reservation."
  value = {
    gateway_budget_per_second     = var.gateway_budget_per_second
    gateway_requests_per_payment  = local.gateway_requests_per_payment
    gateway_request_latency_ms    = var.gateway_request_latency_ms
    payments_per_second_at_budget = local.payments_per_second_at_budget
    derived_maximum_concurrency   = local.derived_maximum_concurrency
    maximum_concurrency           = local.maximum_concurrency
    reserved_concurrency          = local.reserved_concurrency
    mappings                      = { for k in keys(local.functions) : k => module.routing[k].event_source_mapping.maximum_concurrency }
    functions                     = { for k in keys(local.all_functions) : k => module.function[k].reserved_concurrency }
  }
}
