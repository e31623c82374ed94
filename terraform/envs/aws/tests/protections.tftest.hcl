# Native tests of envs/aws with a mocked AWS provider: every protection is on.
mock_provider "aws" {
  source = "../../testing/aws"
}

variables {
  # The mock provider never uploads the package; any existing file gives a hash.
  package_path = "main.tf"
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
    condition     = module.code_signing.untrusted_artifact_on_deployment == "Enforce"
    error_message = "Code signing must reject unsigned packages by default."
  }
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
    ]]
    error_message = "Only the service's four functions' log groups may use the key."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(module.service.wiring.key_policy).Statement : s.Condition.ArnEquals["aws:SourceArn"]
      if s.Sid == "EventBridgeRulesWritingToEncryptedQueues"
      ])) == toset([
      "arn:aws:events:us-east-2:123456789012:rule/novamart-payment-handler-consumed",
      "arn:aws:events:us-east-2:123456789012:rule/novamart-refund-handler-consumed",
      "arn:aws:events:us-east-2:123456789012:rule/novamart-payments-audit",
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
