# One CloudWatch dashboard for the service: records (the service's own metrics) next to invocations and queues,
# because the Lambda metrics count invocations, while a failed record is a normal answer to Lambda.
locals {
  fn_keys = sort(keys(var.function_names))
  # Only the functions a queue feeds have a source queue and a DLQ (webhooks and reconciliation have none).
  queue_keys = sort(keys(var.queue_names))

  service_metric = [var.metrics_namespace, "{metric}", "service", var.service_name]

  widget = {
    records = {
      title   = "Outcomes per record"
      metrics = [for m in ["PaymentSucceeded", "PaymentFailed", "RefundSucceeded", "RefundFailed", "DuplicateDelivery"] : [var.metrics_namespace, m, "service", var.service_name]]
    }
    problems = {
      title   = "Records that need attention"
      metrics = [for m in ["ValidationRejected", "TransientRetry", "TimeGuardDeferred", "DuplicateRejected"] : [var.metrics_namespace, m, "service", var.service_name]]
    }
    invocations = {
      title   = "Invocations, errors, throttles"
      metrics = [for pair in setproduct(local.fn_keys, ["Invocations", "Errors", "Throttles"]) : ["AWS/Lambda", pair[1], "FunctionName", var.function_names[pair[0]]]]
    }
    duration = {
      title   = "Duration (maximum)"
      metrics = [for k in local.fn_keys : ["AWS/Lambda", "Duration", "FunctionName", var.function_names[k], { stat = "Maximum" }]]
    }
    queues = {
      title   = "Source queues: oldest message (s)"
      metrics = [for k in local.queue_keys : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", var.queue_names[k], { stat = "Maximum" }]]
    }
    dlqs = {
      title   = "Dead-letter queues: messages"
      metrics = [for k in local.queue_keys : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dlq_names[k], { stat = "Maximum" }]]
    }
  }

  order = ["records", "problems", "invocations", "duration", "queues", "dlqs"]

  body = {
    widgets = [
      for i, name in local.order : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = local.widget[name].title
          region  = var.region
          stat    = "Sum"
          period  = var.period_seconds
          view    = "timeSeries"
          metrics = local.widget[name].metrics
        }
      }
    ]
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode(local.body)
}
