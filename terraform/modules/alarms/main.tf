locals {
  actions = [var.alarm_topic_arn]

  # Every alarm of the service as data: one resource below creates them all, so a new kind of alarm is one
  # entry here rather than another copy of the resource block.
  function_alarms = merge([
    for key, fn in var.functions : {
      "${key}-errors" = {
        kind        = "function_errors", key = key, namespace = "AWS/Lambda", metric = "Errors"
        dimension   = "FunctionName", target = fn.function_name, statistic = "Sum", threshold = 0
        description = "${fn.function_name} returned errors (whole-batch failures or crashes)."
      }
      "${key}-throttles" = {
        kind        = "function_throttles", key = key, namespace = "AWS/Lambda", metric = "Throttles"
        dimension   = "FunctionName", target = fn.function_name, statistic = "Sum", threshold = 0
        description = "${fn.function_name} was throttled (reserved concurrency reached)."
      }
      "${key}-duration-near-timeout" = {
        kind        = "function_duration", key = key, namespace = "AWS/Lambda", metric = "Duration"
        dimension   = "FunctionName", target = fn.function_name, statistic = "Maximum"
        threshold   = floor(fn.timeout_seconds * 1000 * var.duration_threshold_ratio)
        description = "${fn.function_name} ran longer than ${var.duration_threshold_ratio * 100}% of its ${fn.timeout_seconds} s timeout."
      }
    }
  ]...)

  dlq_alarms = {
    for key, queue in var.dlqs : "${key}-dlq-not-empty" => {
      kind        = "dlq_messages", key = key, namespace = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible"
      dimension   = "QueueName", target = queue, statistic = "Maximum", threshold = 0
      description = "Dead-letter queue ${queue} holds at least one message."
    }
  }

  queue_alarms = {
    for key, queue in var.queues : "${key}-oldest-message-age" => {
      kind        = "queue_oldest_message", key = key, namespace = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage"
      dimension   = "QueueName", target = queue, statistic = "Maximum"
      threshold   = var.oldest_message_age_threshold_seconds
      description = "Oldest message of ${queue} is older than ${var.oldest_message_age_threshold_seconds} s (consumer stuck or too slow)."
    }
  }

  # Record-level outcomes the Lambda Errors metric cannot see (a failed record is a normal answer with
  # batchItemFailures): the service's own EMF metrics, dimension `service`.
  record_alarms = {
    for name, spec in var.record_metric_alarms : "record-${name}" => {
      kind        = "record_metric", key = name, namespace = var.metrics_namespace, metric = spec.metric
      dimension   = "service", target = var.service_name, statistic = spec.statistic, threshold = spec.threshold
      description = spec.description
    }
  }

  alarms = merge(local.function_alarms, local.dlq_alarms, local.queue_alarms, local.record_alarms)
  kinds  = ["function_errors", "function_throttles", "function_duration", "dlq_messages", "queue_oldest_message", "record_metric"]
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.description} Runbook: ${var.runbook_url}#${each.key}"
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = { (each.value.dimension) = each.value.target }
  statistic           = each.value.statistic
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
