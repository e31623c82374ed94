# Native tests of envs/aws with a mocked AWS provider: every protection is on.
mock_provider "aws" {
  source = "../../testing/aws"
}

variables {
  # The mock provider never uploads the package; any existing file gives a hash.
  package_path = "main.tf"
  # What make deploy passes: the signing job's output object (the gate below refuses Enforce without it).
  signed_package = { bucket = "novamart-payments-artifacts-123456789012-us-east-2", key = "signed/0123.zip", object_version = "v1" }
}

override_resource {
  target = module.service.module.webhook_endpoint.aws_apigatewayv2_api.this[0]
  values = {
    id            = "abc123defg"
    api_endpoint  = "https://abc123defg.execute-api.us-east-2.amazonaws.com"
    execution_arn = "arn:aws:execute-api:us-east-2:123456789012:abc123defg"
  }
}

run "protections_on" {
  command = apply

  assert {
    condition     = alltrue(values(module.service.wiring.protections.deletion_protection))
    error_message = "Tables must have deletion protection in AWS."
  }

  assert {
    condition     = alltrue(values(module.service.wiring.protections.point_in_time_recovery))
    error_message = "Tables must have point-in-time recovery in AWS."
  }

  assert {
    condition     = alltrue([for k, a in module.service.wiring.protections.table_key_arns : a == module.service.wiring.protections.key_arn])
    error_message = "Tables must be encrypted with the service's customer-managed key."
  }

  assert {
    condition     = module.service.wiring.protections.key_rotation && module.service.wiring.protections.key_deletion_window == 30
    error_message = "The key needs rotation and the full 30-day deletion window."
  }

  assert {
    condition     = module.service.wiring.protections.schema_registry == "novamart-payments"
    error_message = "The schema registry must be on in AWS."
  }

  assert {
    condition     = toset(module.service.wiring.protections.schemas) == toset([for f in fileset("../../../schemas/registry", "*.json") : trimsuffix(f, ".json")])
    error_message = "Every file of schemas/registry must become one registry schema."
  }

  assert {
    condition     = module.service.wiring.environment.LOG_LEVEL == "INFO" && module.service.wiring.environment.GATEWAY_MODE == "stripe" && !contains(keys(module.service.wiring.environment), "STRIPE_API_BASE") && !contains(keys(module.service.wiring.environment), "AWS_REGION")
    error_message = "Unexpected function environment in AWS."
  }

  assert {
    condition = alltrue([for k, p in module.service.wiring.function_policies : length([
      for st in jsondecode(p).Statement : st if anytrue([for a in flatten([st.Action]) : startswith(a, "secretsmanager:")])
    ]) == 1])
    error_message = "Each function has exactly one Secrets Manager statement."
  }

  assert {
    condition = alltrue([for k, p in module.service.wiring.function_policies : alltrue([
      for st in jsondecode(p).Statement : flatten([st.Action]) == ["secretsmanager:GetSecretValue"] && flatten([st.Resource]) == [
        for s in(k == "webhooks" ? ["api_key", "signing"] : ["api_key"]) : "arn:aws:secretsmanager:us-east-2:123456789012:secret:novamart/payments/stripe-secret-key-AbCdEf"
      ]
      if anytrue([for a in flatten([st.Action]) : startswith(a, "secretsmanager:")])
    ])])
    error_message = "The functions may only GetSecretValue, on the Stripe key secret (and the webhook function on the signing secret too)."
  }

  assert {
    condition     = length(module.service.wiring.topic_policies) == 1 && module.service.wiring.alarm_topic_arn == "arn:aws:sns:us-east-2:123456789012:novamart-payments-alarms"
    error_message = "Without alarm_topic_arn the environment creates its own alarm topic."
  }
}

run "code_signing_enforced" {
  command = apply

  assert {
    condition     = alltrue([for k, arn in module.service.wiring.code_signing : arn == output.code_signing_config_arn]) && length(module.service.wiring.code_signing) == 4
    error_message = "All four functions must carry the environment's code signing configuration."
  }

  assert {
    condition     = module.code_signing[0].untrusted_artifact_on_deployment == "Enforce"
    error_message = "Code signing must reject unsigned packages by default."
  }

  assert {
    condition     = module.artifacts.versioning == "Enabled"
    error_message = "AWS Signer signs from a versioned bucket: the artifacts bucket must be versioned."
  }
}

# Lambda would refuse all four CreateFunction calls half-way through the apply: the plan refuses first.
run "enforce_without_signed_package_is_refused" {
  command = plan

  variables {
    signed_package = null
  }

  expect_failures = [terraform_data.signed_package_gate]
}

run "warn_deploys_the_local_zip" {
  command = plan

  variables {
    signed_package      = null
    code_signing_policy = "Warn"
  }
}

run "unknown_signing_policy" {
  command = plan

  variables {
    code_signing_policy = "Off"
  }

  expect_failures = [var.code_signing_policy]
}

# The webhook endpoint: what AWS requires for it to answer, and nothing more. On AWS the HTTP API invokes the
# function as apigateway.amazonaws.com; the permission is scoped to this API's one route by source ARN. No
# function URL (it would need lambda:InvokeFunction for "*", which provider 5.x cannot condition on
# lambda:InvokedViaFunctionUrl), and no statement of any function lets a principal invoke without a source ARN.
run "webhook_endpoint_permissions" {
  command = apply

  assert {
    condition     = module.service.wiring.webhook_endpoint.kind == "http_api" && module.service.wiring.webhook_endpoint.route_key == "POST /stripe/webhooks" && output.webhook_url == "https://abc123defg.execute-api.us-east-2.amazonaws.com/stripe/webhooks"
    error_message = "In AWS the webhook endpoint is the HTTP API's route."
  }

  assert {
    condition = length(module.service.wiring.invoke_permissions.webhooks) == 1 && alltrue([
      for st in module.service.wiring.invoke_permissions.webhooks :
      st.statement_id == "StripeWebhooksThroughHttpApi" && st.action == "lambda:InvokeFunction" &&
      st.principal == "apigateway.amazonaws.com" && st.function_url_auth_type == null &&
      st.source_arn == "arn:aws:execute-api:us-east-2:123456789012:abc123defg/*/POST/stripe/webhooks"
    ])
    error_message = "The webhook function may be invoked by API Gateway, from this API's POST /stripe/webhooks route only; nothing else."
  }

  assert {
    condition = alltrue(flatten([
      for fn, statements in module.service.wiring.invoke_permissions : [
        for st in statements : endswith(st.principal, ".amazonaws.com") && st.source_arn != null && !strcontains(st.action, "*") && st.action != "lambda:InvokeFunctionUrl"
      ]
    ]))
    error_message = "Every invoke permission names an AWS service principal and the source it invokes from: no \"*\", no account, no function URL."
  }

  assert {
    condition     = module.service.wiring.webhook_endpoint.throttling.throttling_rate_limit == 50 && module.service.wiring.webhook_endpoint.throttling.throttling_burst_limit == 100
    error_message = "The webhook route is throttled, so a flood is refused at the edge."
  }
}

run "dashboard_covers_every_function" {
  command = apply

  assert {
    condition = module.service.wiring.dashboard_functions == toset([
      "novamart-payment-handler", "novamart-refund-handler", "novamart-payment-webhooks", "novamart-payment-reconciler",
    ])
    error_message = "The dashboard must graph all four functions."
  }
}

# Nothing reads the audit queue in AWS: its oldest-message alarm would be red from the first event.
run "no_audit_tap_by_default" {
  command = apply

  assert {
    condition     = !module.service.wiring.audit.enabled && output.audit_queue_url == null && !anytrue([for n, a in module.service.wiring.alarms : strcontains(a.target, "audit")])
    error_message = "envs/aws has no audit tap (nor its age alarm) unless asked for."
  }
}

# The mapping concurrency is sized from the gateway budget (modules/service): 80 requests/s / 2 requests per payment
# = 40 payments/s, each holding its invocation 2 x 300 ms = 0.6 s: 24 invocations at once per mapping, and each
# function reserves as many (quota 4 x 24 + 100 = 196: docs/go-live.md).
run "mapping_concurrency_is_sized_from_the_gateway_budget" {
  command = plan

  assert {
    condition = (
      output.concurrency.payments_per_second_at_budget == 40 && output.concurrency.maximum_concurrency == 24 &&
      alltrue([for k, m in output.concurrency.mappings : m == 24]) && length(output.concurrency.mappings) == 2
    )
    error_message = "Each event-source mapping's maximum concurrency must be 80 req/s / 2 x (2 x 0.3 s) = 24."
  }

  assert {
    condition     = alltrue([for k, r in output.concurrency.functions : r == 24]) && length(output.concurrency.functions) == 4
    error_message = "Each of the four functions must reserve the mapping concurrency (24) by default."
  }
}

run "mapping_concurrency_follows_the_budget_and_the_latency" {
  command = plan

  variables {
    gateway_budget_per_second  = 20
    gateway_request_latency_ms = 450
  }

  # 20 / 2 = 10 payments/s x (2 x 0.45 s) = 9 invocations.
  assert {
    condition     = alltrue([for k, m in output.concurrency.mappings : m == 9]) && alltrue([for k, r in output.concurrency.functions : r == 9])
    error_message = "The mapping concurrency must follow the budget and the latency (20 req/s, 450 ms: 9)."
  }
}

run "a_small_budget_still_gets_the_sqs_minimum" {
  command = plan

  variables {
    gateway_budget_per_second = 2
  }

  assert {
    condition     = alltrue([for k, m in output.concurrency.mappings : m == 2])
    error_message = "An SQS mapping's maximum concurrency is at least 2."
  }
}

run "derived_concurrency_above_reserved_is_refused" {
  command = plan

  variables {
    reserved_concurrency = 10
  }

  expect_failures = [terraform_data.concurrency_gate]
}

run "maximum_concurrency_above_reserved_is_refused" {
  command = plan

  variables {
    reserved_concurrency = 4
    maximum_concurrency  = 5
  }

  expect_failures = [terraform_data.concurrency_gate]
}

run "an_explicit_concurrency_within_the_reservation_is_kept" {
  command = plan

  variables {
    reserved_concurrency = 12
    maximum_concurrency  = 8
  }

  assert {
    condition     = alltrue([for k, m in output.concurrency.mappings : m == 8]) && alltrue([for k, r in output.concurrency.functions : r == 12])
    error_message = "Set values are used as given."
  }
}

run "reserved_concurrency_below_two_is_refused" {
  command = plan

  variables {
    reserved_concurrency = 1
    maximum_concurrency  = 2
  }

  expect_failures = [var.reserved_concurrency]
}

run "dlq_sources_restricted" {
  command = apply

  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing : jsondecode(r.dlq_redrive_allow_policy) == {
        redrivePermission = "byQueue", sourceQueueArns = ["arn:aws:sqs:us-east-2:123456789012:${output.functions[k].function_name}-queue"]
      }
    ])
    error_message = "Every function DLQ must accept dead letters from its own queue only."
  }
}

run "key_policy_narrowed" {
  command = apply

  assert {
    condition = [
      for s in jsondecode(module.service.wiring.key_policy).Statement : s.Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"]
      if s.Sid == "CloudWatchLogsForServiceLogGroups"
      ] == [[
        "arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/novamart-payment-handler",
        "arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/novamart-payment-reconciler",
        "arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/novamart-refund-handler",
        "arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/novamart-payment-webhooks",
        "arn:aws:logs:us-east-2:123456789012:log-group:/aws/apigateway/novamart-payment-webhooks",
    ]]
    error_message = "Only the service's four functions' log groups and the webhook API's access log may use the key."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(module.service.wiring.key_policy).Statement : s.Condition.ArnEquals["aws:SourceArn"]
      if s.Sid == "EventBridgeRulesWritingToEncryptedQueues"
      ])) == toset([
      "arn:aws:events:us-east-2:123456789012:rule/novamart-payment-handler-consumed",
      "arn:aws:events:us-east-2:123456789012:rule/novamart-refund-handler-consumed",
    ])
    error_message = "Only the service's own rules may use the key to deliver to its queues."
  }

  assert {
    condition = [
      for s in jsondecode(module.service.wiring.key_policy).Statement : s.Condition.ArnLike["aws:SourceArn"]
      if s.Sid == "CloudWatchAlarmsWritingToEncryptedTopic"
    ] == ["arn:aws:cloudwatch:us-east-2:123456789012:alarm:novamart-payments-*"]
    error_message = "Only the service's own alarms may use the key to publish to its topic."
  }
}

run "existing_alarm_topic" {
  command = apply

  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-2:123456789012:oncall"
  }

  assert {
    condition     = length(module.service.wiring.topic_policies) == 0 && alltrue([for n, a in module.service.wiring.alarms : a.actions == toset(["arn:aws:sns:us-east-2:123456789012:oncall"])])
    error_message = "With alarm_topic_arn every alarm notifies that topic and no topic is created."
  }
}

run "simulated_gateway_is_refused" {
  command = plan

  variables {
    gateway_mode = "simulated"
  }

  expect_failures = [var.gateway_mode]
}

run "no_subscribers_no_bus_policy" {
  command = plan

  assert {
    condition     = module.service.subscriber_bus_policy_json == null
    error_message = "Without subscriber_account_ids the bus gets no policy."
  }
}

run "cross_account_subscribers" {
  command = plan

  variables {
    subscriber_account_ids = ["444455556666", "111122223333"]
  }

  assert {
    condition = jsondecode(module.service.subscriber_bus_policy_json).Statement[0].Principal.AWS == [
      "arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root",
    ]
    error_message = "Exactly the named accounts are granted."
  }

  assert {
    condition     = jsondecode(module.service.subscriber_bus_policy_json).Statement[0].Resource == "arn:aws:events:us-east-2:123456789012:rule/*"
    error_message = "The grant covers rules of the service's (default) bus only."
  }

  assert {
    condition = jsondecode(module.service.subscriber_bus_policy_json).Statement[0].Condition.StringEqualsIfExists == {
      "events:creatorAccount" = "$${aws:PrincipalAccount}"
      "events:source"         = "novamart.payments"
    }
    error_message = "Subscribers may only manage rules they created, matching source novamart.payments."
  }

  assert {
    condition     = !contains(jsondecode(module.service.subscriber_bus_policy_json).Statement[0].Action, "events:PutEvents")
    error_message = "Subscribers read the bus; they may not publish on it."
  }
}

run "bad_subscriber_account_id" {
  command = plan

  variables {
    subscriber_account_ids = ["not-an-account"]
  }

  expect_failures = [var.subscriber_account_ids]
}
