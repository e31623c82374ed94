# Cross-account subscription (docs/events/subscribing.md): named accounts may create and manage their own
# rules on the service's bus, matching only the events this service publishes. Kept in its own file so the
# variable, the policy and the output it is tested through stay together.

variable "subscriber_account_ids" {
  description = "AWS accounts allowed to create their own rules on the bus for source novamart.payments (cross-account consumers). Empty: no bus policy is created."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.subscriber_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "subscriber_account_ids holds 12-digit AWS account ids."
  }
}

locals {
  # local.rule_arn_prefix (main.tf): rules of the default bus are rule/<name>, of a custom bus rule/<bus>/<name>.
  subscriber_policy = length(var.subscriber_account_ids) == 0 ? null : {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SubscribersManageTheirOwnPaymentRules"
      Effect    = "Allow"
      Principal = { AWS = [for a in sort(var.subscriber_account_ids) : "arn:${data.aws_partition.current.partition}:iam::${a}:root"] }
      Action = [
        "events:PutRule", "events:DeleteRule", "events:DescribeRule", "events:EnableRule", "events:DisableRule",
        "events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule",
      ]
      Resource = "${local.rule_arn_prefix}*"
      Condition = {
        # Only rules the caller created itself, and only rules that match this service's events.
        StringEqualsIfExists = {
          "events:creatorAccount" = "$${aws:PrincipalAccount}"
          "events:source"         = "novamart.payments"
        }
      }
    }]
  }
}

resource "aws_cloudwatch_event_bus_policy" "subscribers" {
  count          = local.subscriber_policy == null ? 0 : 1
  event_bus_name = var.event_bus_name
  policy         = jsonencode(local.subscriber_policy)
}

output "subscriber_bus_policy_json" {
  description = "The bus policy granting subscriber_account_ids their own rules (null when the list is empty)."
  value       = local.subscriber_policy == null ? null : jsonencode(local.subscriber_policy)
}
