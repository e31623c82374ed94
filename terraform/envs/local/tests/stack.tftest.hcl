# Native tests of envs/local with a mocked AWS provider (no emulator, no network).
# Run with ./tools/tf.sh test-all. What they guard:
#   - each consumed (source, detail-type) routes to exactly one function, the right one, and the
#     rules match nothing else;
#   - rule -> queue -> event-source mapping -> function wiring, queue redrive and target DLQs;
#   - alarms for every function and every DLQ / queue, all notifying the topic;
#   - least privilege: no wildcard action anywhere, no wildcard resource except X-Ray (which has
#     no resource-level permissions) and the log streams of the function's own log group;
#     queue/topic policies deny non-TLS access.
# mock_provider fills computed attributes with random strings; ARNs that other resources validate
# get fixed, distinct values below.

mock_provider "aws" {
  source = "../../testing/aws"
}

override_resource {
  target = module.service.module.tables.aws_dynamodb_table.this["payments"]
  values = { arn = "arn:aws:dynamodb:us-east-2:123456789012:table/payments" }
}

override_resource {
  target = module.service.module.tables.aws_dynamodb_table.this["refunds"]
  values = { arn = "arn:aws:dynamodb:us-east-2:123456789012:table/refunds" }
}

override_resource {
  target = module.service.module.risk[0].aws_dynamodb_table.counters
  values = { arn = "arn:aws:dynamodb:us-east-2:123456789012:table/novamart-payments-risk-counters" }
}

override_resource {
  target = module.service.module.risk[0].aws_ssm_parameter.rules
  values = { arn = "arn:aws:ssm:us-east-2:123456789012:parameter/novamart-payments/risk-rules" }
}

override_resource {
  target = module.service.module.routing["payment"].aws_sqs_queue.this
  values = {
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-payment-handler-queue"
    url = "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-payment-handler-queue"
  }
}

override_resource {
  target = module.service.module.routing["payment"].aws_sqs_queue.dlq
  values = {
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-payment-handler-dlq"
    url = "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-payment-handler-dlq"
  }
}

override_resource {
  target = module.service.module.routing["refund"].aws_sqs_queue.this
  values = {
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-refund-handler-queue"
    url = "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-refund-handler-queue"
  }
}

override_resource {
  target = module.service.module.routing["refund"].aws_sqs_queue.dlq
  values = {
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-refund-handler-dlq"
    url = "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-refund-handler-dlq"
  }
}

override_resource {
  target = module.service.module.audit_tap.aws_sqs_queue.this
  values = {
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-payments-audit"
    url = "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-payments-audit"
  }
}

override_resource {
  target = module.service.module.audit_tap.aws_sqs_queue.dlq
  values = {
    arn = "arn:aws:sqs:us-east-2:123456789012:novamart-payments-audit-dlq"
    url = "https://sqs.us-east-2.amazonaws.com/123456789012/novamart-payments-audit-dlq"
  }
}

override_resource {
  target = module.service.module.function["payment"].aws_lambda_function.this
  values = { arn = "arn:aws:lambda:us-east-2:123456789012:function:novamart-payment-handler" }
}

override_resource {
  target = module.service.module.function["refund"].aws_lambda_function.this
  values = { arn = "arn:aws:lambda:us-east-2:123456789012:function:novamart-refund-handler" }
}

variables {
  # The mock provider never uploads the package; any existing file gives a hash.
  package_path    = "main.tf"
  stripe_api_base = "http://127.0.0.1:8420"
}

run "routing" {
  command = apply

  # The rules match (source, detail-type) pairs: one alternative per source, nothing else.
  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing : alltrue([
        for alt in try(jsondecode(r.event_pattern)["$or"], [jsondecode(r.event_pattern)]) :
        toset(keys(alt)) == toset(["source", "detail-type"]) && length(alt.source) == 1
      ])
    ])
    error_message = "Every rule alternative must filter on exactly one source and its detail-types, and on nothing else."
  }

  assert {
    condition = toset(flatten([
      for alt in try(jsondecode(module.service.wiring.routing["payment"].event_pattern)["$or"], [jsondecode(module.service.wiring.routing["payment"].event_pattern)]) :
      [for s in alt.source : [for d in alt["detail-type"] : "${s}|${d}"]]
    ])) == toset(["novamart.inventory|inventory.reserved", "novamart.orders|order.ready_for_payment"])
    error_message = "The payment rule must match exactly inventory.reserved (novamart.inventory) and order.ready_for_payment (novamart.orders)."
  }

  assert {
    condition = toset(flatten([
      for alt in try(jsondecode(module.service.wiring.routing["refund"].event_pattern)["$or"], [jsondecode(module.service.wiring.routing["refund"].event_pattern)]) :
      [for s in alt.source : [for d in alt["detail-type"] : "${s}|${d}"]]
    ])) == toset(["novamart.inventory|inventory.reservation_failed", "novamart.orders|order.cancelled"])
    error_message = "The refund rule must match exactly inventory.reservation_failed (novamart.inventory) and order.cancelled (novamart.orders)."
  }

  # maxReceiveCount is derived from the retry horizon and schedule (envs/local: 1 s, 2 s over 4 s: 4 receives, the
  # value novamart_payments.config.receives_for_horizon gives, tests/unit/test_retry.py), and the functions know it.
  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing : jsondecode(r.queue_redrive_policy).maxReceiveCount == 4
    ])
    error_message = "Each source queue's maxReceiveCount must be derived from the retry horizon (4 with envs/local's values)."
  }

  # Each consumed detail-type reaches exactly one function.
  assert {
    condition = alltrue([
      for dt in ["inventory.reserved", "order.ready_for_payment", "inventory.reservation_failed", "order.cancelled"] :
      length([
        for k, r in module.service.wiring.routing : k
        if contains(flatten([for alt in try(jsondecode(r.event_pattern)["$or"], [jsondecode(r.event_pattern)]) : alt["detail-type"]]), dt)
      ]) == 1
    ])
    error_message = "A consumed detail-type is routed to more than one function (or to none)."
  }

  # The service never consumes its own events.
  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing : !contains(flatten([
        for alt in try(jsondecode(r.event_pattern)["$or"], [jsondecode(r.event_pattern)]) : alt.source
      ]), "novamart.payments")
    ])
    error_message = "A function rule matches novamart.payments (the service's own events)."
  }

  # rule -> its own queue -> mapping -> its own function.
  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing :
      r.target_arn == r.queue_arn && r.event_source_mapping.event_source_arn == r.queue_arn &&
      r.event_source_mapping.function_name == r.function_arn &&
      r.function_arn == "arn:aws:lambda:us-east-2:123456789012:function:${output.functions[k].function_name}"
    ])
    error_message = "A rule target or event-source mapping is not wired to its own function's queue."
  }

  assert {
    condition     = module.service.wiring.routing["payment"].queue_arn == "arn:aws:sqs:us-east-2:123456789012:novamart-payment-handler-queue" && module.service.wiring.routing["refund"].queue_arn == "arn:aws:sqs:us-east-2:123456789012:novamart-refund-handler-queue"
    error_message = "Function queues are crossed."
  }

  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing :
      r.event_source_mapping.batch_size == 1 && contains(r.event_source_mapping.function_response_types, "ReportBatchItemFailures") && r.event_source_mapping.maximum_concurrency >= 2 && r.event_source_mapping.maximum_concurrency <= 10
    ])
    error_message = "Event-source mappings need batch size 1 (the time budget), ReportBatchItemFailures and a maximum concurrency (2-10)."
  }

  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing : r.visibility_timeout >= 6 * output.lambda_timeout_seconds[k]
    ])
    error_message = "Queue visibility timeout must be at least 6x the Lambda timeout."
  }

  assert {
    condition     = jsondecode(module.service.wiring.audit.event_pattern) == { source = ["novamart.payments"] }
    error_message = "The audit tap must match everything novamart.payments publishes, and only that."
  }

  assert {
    condition = module.service.wiring.environment == {
      PAYMENT_TABLE_NAME               = "payments"
      REFUND_TABLE_NAME                = "refunds"
      EVENT_BUS_NAME                   = "default"
      GATEWAY_MODE                     = "stripe"
      STRIPE_SECRET_ID                 = "arn:aws:secretsmanager:us-east-2:123456789012:secret:novamart/payments/stripe-secret-key-AbCdEf"
      STRIPE_API_BASE                  = "http://127.0.0.1:8420"
      STRIPE_OFF_SESSION               = "false"
      STRIPE_WEBHOOK_SECRET_ID         = "arn:aws:secretsmanager:us-east-2:123456789012:secret:novamart/payments/stripe-secret-key-AbCdEf"
      WEBHOOK_EVENT_TABLE_NAME         = "payment-webhook-events"
      ACTION_DEADLINE_SECONDS          = "15"
      RECONCILE_PENDING_AFTER_SECONDS  = "60"
      RECONCILE_ACTION_AFTER_SECONDS   = "5"
      POWERTOOLS_SERVICE_NAME          = "novamart-payments"
      POWERTOOLS_METRICS_NAMESPACE     = "NovaMart/Payments"
      LOG_LEVEL                        = "DEBUG"
      QUEUE_MAX_RECEIVE_COUNT          = "4"
      RETRY_SCHEDULE_SECONDS           = "1,2"
      RETRY_JITTER                     = "0.2"
      RETRY_HORIZON_SECONDS            = "4"
      GATEWAY_BUDGET_PER_SECOND        = "20"
      GATEWAY_BUDGET_TABLE_NAME        = "payment-webhook-events"
      EVENT_MAJORS                     = module.service.wiring.environment["EVENT_MAJORS"] # asserted below
      RADAR_EARLY_FRAUD_WARNING_POLICY = "refund_actionable"
      RISK_RULES_PARAMETER_NAME        = "/novamart-payments/risk-rules"
      RISK_TABLE_NAME                  = "novamart-payments-risk-counters"
      RISK_RULES_MAX_AGE_SECONDS       = "5"
    }
    error_message = "Function environment differs from docs/design.md (and must never set AWS_REGION)."
  }

  assert {
    condition     = jsondecode(module.service.wiring.environment["EVENT_MAJORS"])["refund.failed"] == { current = 2, deprecated = { "1" = "2027-06-30" } }
    error_message = "EVENT_MAJORS must carry the code's table (majors.py): refund.failed 1.x is published beside 2.x until 2027-06-30."
  }
}

run "dead_letter_queues" {
  command = apply

  assert {
    condition = alltrue([
      for k, r in module.service.wiring.routing :
      jsondecode(r.queue_redrive_policy).deadLetterTargetArn == r.dlq_arn && jsondecode(r.queue_redrive_policy).maxReceiveCount >= 1 && r.dlq_arn != r.queue_arn
    ])
    error_message = "Every function queue must redrive to its own DLQ."
  }

  assert {
    condition     = alltrue([for k, r in module.service.wiring.routing : r.target_dead_letter_arn == r.dlq_arn])
    error_message = "Every rule target must have a DLQ."
  }

  assert {
    condition     = jsondecode(module.service.wiring.audit.queue_redrive_policy).deadLetterTargetArn == module.service.wiring.audit.dlq_arn
    error_message = "The audit queue must redrive to its DLQ."
  }

  assert {
    condition = alltrue([for k, f in output.functions :
      f.dlq_arn == module.service.wiring.routing[k].dlq_arn && f.queue_arn == module.service.wiring.routing[k].queue_arn
    ])
    error_message = "The functions output does not match the wiring."
  }
}

run "alarms" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for k, f in output.functions : [
        for m in ["Errors", "Throttles", "Duration"] :
        length([for n, a in module.service.wiring.alarms : n if a.metric == m && a.target == f.function_name]) == 1
      ]
    ]))
    error_message = "Every function needs one Errors, one Throttles and one Duration alarm."
  }

  assert {
    condition = alltrue([
      for q in values(module.service.wiring.dlq_names) :
      length([for n, a in module.service.wiring.alarms : n if a.metric == "ApproximateNumberOfMessagesVisible" && a.target == q]) == 1
    ]) && length([for n, a in module.service.wiring.alarms : n if a.metric == "ApproximateNumberOfMessagesVisible" && a.target == "novamart-payments-audit-dlq"]) == 1
    error_message = "Every DLQ (function and audit) needs a messages-visible alarm."
  }

  assert {
    condition = alltrue([
      for q in values(module.service.wiring.queue_names) :
      length([for n, a in module.service.wiring.alarms : n if a.metric == "ApproximateAgeOfOldestMessage" && a.target == q]) == 1
    ])
    error_message = "Every source queue needs an age-of-oldest-message alarm."
  }

  assert {
    condition = alltrue([
      for m in ["GatewayAuthError", "GatewayIdempotencyError"] :
      length([for n, a in module.service.wiring.alarms : n if a.metric == m && a.target == "novamart-payments"]) == 1
    ])
    error_message = "Our own gateway faults (wrong key, refused idempotency key) must each page through an alarm."
  }

  assert {
    condition     = alltrue([for n, a in module.service.wiring.alarms : a.actions == toset([module.service.wiring.alarm_topic_arn])])
    error_message = "Every alarm must notify the alarm topic."
  }

  # Record-level outcomes the Errors alarm cannot see.
  assert {
    condition = alltrue([
      for m in ["ValidationRejected", "TransientRetry", "TimeGuardDeferred", "DuplicateRejected"] :
      length([for n, a in module.service.wiring.alarms : n if a.metric == m && a.target == "novamart-payments"]) == 1
    ])
    error_message = "Validation rejections, transient retries, time-guard deferrals and mismatches each need an alarm on the service's metric."
  }

  assert {
    condition = alltrue([
      for m in ["ValidationRejected", "TransientRetry", "TimeGuardDeferred", "DuplicateRejected", "PaymentSucceeded", "RefundSucceeded"] :
      contains(module.service.wiring.dashboard_metrics, "NovaMart/Payments/${m}")
    ]) && contains(module.service.wiring.dashboard_metrics, "AWS/SQS/ApproximateNumberOfMessagesVisible")
    error_message = "The dashboard must graph the record outcomes, the record problems and the DLQs."
  }
}

run "alarm_subscriptions" {
  command = apply

  variables {
    alarm_subscriptions = [{ protocol = "email", endpoint = "payments-oncall@example.com" }]
  }

  assert {
    condition     = module.service.wiring.alarm_subscriptions == ["email:payments-oncall@example.com"]
    error_message = "alarm_subscriptions must subscribe the alarm topic."
  }
}

run "least_privilege" {
  command = apply

  # No wildcard in any allowed action.
  assert {
    condition = alltrue(flatten([
      for k, p in module.service.wiring.function_policies : [
        for s in jsondecode(p).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
      ]
    ]))
    error_message = "A function policy allows a wildcard action."
  }

  # Resource "*" only for X-Ray; other wildcards only for the own log group's streams.
  assert {
    condition = alltrue(flatten([
      for k, p in module.service.wiring.function_policies : [
        for s in jsondecode(p).Statement : [
          for r in flatten([s.Resource]) :
          !strcontains(r, "*") ||
          (r == "*" && alltrue([for a in flatten([s.Action]) : startswith(a, "xray:")])) ||
          (r == "arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/${merge(output.functions, output.later_functions)[k].function_name}:log-stream:*")
        ]
      ]
    ]))
    error_message = "A function policy has a wildcard resource where AWS allows scoping."
  }

  # Each role as planned; tests/iam_policies checks the applied roles against the calls the code really makes.
  assert {
    condition = [
      for s in jsondecode(module.service.wiring.function_policies["payment"]).Statement : s if startswith(s.Sid, "Tables")
      ] == [{
        Sid      = "Tables0", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = ["arn:aws:dynamodb:us-east-2:123456789012:table/payments"]
        }, {
        Sid      = "Tables1", Effect = "Allow", Action = ["dynamodb:UpdateItem"]
        Resource = [module.service.wiring.budget_table_arn]
        }, {
        Sid      = "Tables2", Effect = "Allow", Action = ["dynamodb:UpdateItem"]
        Resource = ["arn:aws:dynamodb:us-east-2:123456789012:table/novamart-payments-risk-counters"]
    }]
    error_message = "The payment role may only read, put and update payments, spend the gateway request budget and count orders in the risk counters."
  }

  assert {
    condition = [
      for s in jsondecode(module.service.wiring.function_policies["payment"]).Statement : s if s.Sid == "ReadParameters"
      ] == [{
        Sid      = "ReadParameters", Effect = "Allow", Action = ["ssm:GetParameter"]
        Resource = ["arn:aws:ssm:us-east-2:123456789012:parameter/novamart-payments/risk-rules"]
    }]
    error_message = "The payment role reads the risk rules parameter, and only it."
  }

  assert {
    condition = alltrue([
      for k, p in module.service.wiring.function_policies : k == "payment" || length([for s in jsondecode(p).Statement : s if s.Sid == "ReadParameters"]) == 0
    ])
    error_message = "Only the payment function reads the risk rules."
  }

  assert {
    condition = [
      for s in jsondecode(module.service.wiring.function_policies["refund"]).Statement : s if startswith(s.Sid, "Tables")
      ] == [{
        Sid      = "Tables0", Effect = "Allow", Action = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = ["arn:aws:dynamodb:us-east-2:123456789012:table/payments", "arn:aws:dynamodb:us-east-2:123456789012:table/refunds"]
        }, {
        Sid      = "Tables1", Effect = "Allow", Action = ["dynamodb:UpdateItem"]
        Resource = [module.service.wiring.budget_table_arn]
    }]
    error_message = "The refund role must read both records (BatchGetItem, GetItem) and put/update both tables, and spend the gateway request budget, nothing else."
  }

  assert {
    condition = [
      for s in jsondecode(module.service.wiring.function_policies["reconciler"]).Statement : s if startswith(s.Sid, "Tables")
      ] == [
      {
        Sid      = "Tables0", Effect = "Allow", Action = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
        Resource = ["arn:aws:dynamodb:us-east-2:123456789012:table/payments", "arn:aws:dynamodb:us-east-2:123456789012:table/refunds"]
      },
      {
        Sid      = "Tables1", Effect = "Allow", Action = ["dynamodb:Query"]
        Resource = ["arn:aws:dynamodb:us-east-2:123456789012:table/payments/index/unfinished", "arn:aws:dynamodb:us-east-2:123456789012:table/refunds/index/unfinished"]
      },
      {
        Sid      = "Tables2", Effect = "Allow", Action = ["dynamodb:UpdateItem"]
        Resource = [module.service.wiring.budget_table_arn]
      },
    ]
    error_message = "The reconciler may read and move payments and refunds, query only the unfinished indexes (never Scan), and spend the gateway request budget."
  }

  # Each function touches only its own queue, the key (through the services holding its data), the bus
  # with its own source and the detail-types it publishes (listed per function: a new function adds its row).
  assert {
    condition = alltrue([
      for k, p in module.service.wiring.function_policies : alltrue([
        for s in jsondecode(p).Statement :
        (startswith(flatten([s.Action])[0], "sqs:") ? toset(flatten([s.Resource])) == toset([module.service.wiring.routing[k].queue_arn]) && length(setsubtract(toset(s.Action), toset(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility", "sqs:SendMessage"]))) == 0 : true) &&
        (s.Sid == "RequeueEncrypted" ? (
          contains(keys(module.service.wiring.routing), k) && toset(flatten([s.Resource])) == toset([module.service.wiring.protections.key_arn]) &&
          s.Action == ["kms:GenerateDataKey"] && toset(s.Condition.StringEquals["kms:ViaService"]) == toset(["sqs.us-east-2.amazonaws.com"])
        ) : true) &&
        (startswith(flatten([s.Action])[0], "kms:") && s.Sid != "RequeueEncrypted" ? (
          toset(flatten([s.Resource])) == toset([module.service.wiring.protections.key_arn]) && (
            s.Sid == "ServiceKeyThroughDynamoDB" ? (
              # Every function reads and writes its tables, which the service key encrypts: the key through DynamoDB.
              s.Action == ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"] &&
              s.Condition.StringEquals["kms:ViaService"] == ["dynamodb.us-east-2.amazonaws.com"]
              ) : (
              s.Action == ["kms:Decrypt"] &&
              toset(s.Condition.StringEquals["kms:ViaService"]) == toset(concat(
                contains(keys(module.service.wiring.routing), k) ? ["sqs.us-east-2.amazonaws.com"] : [],
                ["lambda.us-east-2.amazonaws.com", "secretsmanager.us-east-2.amazonaws.com"],
              ))
            )
          )
        ) : true) &&
        (startswith(flatten([s.Action])[0], "events:") ? (
          toset(flatten([s.Resource])) == toset(["arn:aws:events:us-east-2:123456789012:event-bus/default"]) &&
          s.Condition.StringEquals["events:source"] == "novamart.payments" &&
          toset(s.Condition.StringEquals["events:detail-type"]) == toset({
            payment    = ["payment.succeeded", "payment.failed", "payment.action_required"]
            refund     = ["refund.succeeded", "refund.failed", "payment.succeeded", "payment.failed"]
            webhooks   = ["payment.succeeded", "payment.failed", "payment.action_required", "payment.disputed", "refund.succeeded", "refund.failed"]
            reconciler = ["payment.succeeded", "payment.failed", "payment.action_required", "refund.succeeded", "refund.failed"]
          }[k])
        ) : true)
      ])
    ])
    error_message = "A function policy statement is not scoped to the function's own queue, the key via its services, or the bus with its own source and detail-types."
  }

  # The tables are encrypted with the service key, so every function that calls DynamoDB needs that key through
  # DynamoDB (the assert above checks the statement's shape; this one that it is there).
  assert {
    condition = alltrue([
      for k, p in module.service.wiring.function_policies :
      length([for s in jsondecode(p).Statement : s if s.Sid == "ServiceKeyThroughDynamoDB"]) == 1
    ])
    error_message = "Every function reads or writes a table encrypted with the service key: it needs the key through DynamoDB."
  }

  # Queue and topic policies: allows are scoped to a service principal, never "*" actions;
  # every policy denies non-TLS access.
  assert {
    condition = alltrue(flatten([
      for p in concat(
        flatten([for k, r in module.service.wiring.routing : [r.queue_policy_json, r.dlq_policy_json]]),
        values(module.service.wiring.audit.policies),
        module.service.wiring.topic_policies,
        ) : [
        for s in jsondecode(p).Statement : s.Effect == "Deny" || (
          s.Principal != "*" && try(s.Principal.AWS, "") != "*" && alltrue([for a in flatten([s.Action]) : !strcontains(a, "*")]) &&
          alltrue([for r in flatten([s.Resource]) : !strcontains(r, "*")]) && length(keys(try(s.Condition, {}))) > 0
        )
      ]
    ]))
    error_message = "A queue or topic policy allows a wildcard principal, action or resource, or has an unconditioned allow."
  }

  assert {
    condition = alltrue([
      for p in concat(
        flatten([for k, r in module.service.wiring.routing : [r.queue_policy_json, r.dlq_policy_json]]),
        values(module.service.wiring.audit.policies),
        module.service.wiring.topic_policies,
        ) : length([
          for s in jsondecode(p).Statement : s if s.Effect == "Deny" && s.Principal == "*" && try(s.Condition.Bool["aws:SecureTransport"], "") == "false"
      ]) == 1
    ])
    error_message = "Every queue and topic policy must deny access without TLS (aws:SecureTransport)."
  }
}

run "emulator_switches" {
  command = apply

  assert {
    condition     = module.service.wiring.protections.schema_registry == null && length(module.service.wiring.protections.schemas) == 0
    error_message = "The schema registry must be off locally (moto has no Schemas API)."
  }

  assert {
    condition     = alltrue(values(module.service.wiring.protections.point_in_time_recovery)) && alltrue([for k, a in module.service.wiring.protections.table_key_arns : a == module.service.wiring.protections.key_arn])
    error_message = "Tables need PITR and the service's customer-managed key, also locally."
  }

  assert {
    condition     = output.audit_queue_url != null
    error_message = "The audit tap is on by default locally (the behaviour suite reads it)."
  }
}

run "audit_tap_off" {
  command = apply

  variables {
    enable_audit_tap = false
  }

  assert {
    condition     = output.audit_queue_url == null && !module.service.wiring.audit.enabled
    error_message = "audit_queue_url must be null when the tap is off."
  }
}
