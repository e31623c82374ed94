output "alarm_names" {
  description = "Alarm names grouped by kind, each keyed like the input maps."
  value = {
    function_errors      = { for k, a in aws_cloudwatch_metric_alarm.function_errors : k => a.alarm_name }
    function_throttles   = { for k, a in aws_cloudwatch_metric_alarm.function_throttles : k => a.alarm_name }
    function_duration    = { for k, a in aws_cloudwatch_metric_alarm.function_duration : k => a.alarm_name }
    dlq_messages         = { for k, a in aws_cloudwatch_metric_alarm.dlq_messages : k => a.alarm_name }
    queue_oldest_message = { for k, a in aws_cloudwatch_metric_alarm.queue_oldest_message : k => a.alarm_name }
  }
}

output "alarm_dimensions" {
  description = "What each alarm watches (metric and dimension value), keyed by alarm name; for tests."
  value = merge(
    { for a in aws_cloudwatch_metric_alarm.function_errors : a.alarm_name => { metric = a.metric_name, target = a.dimensions["FunctionName"], actions = a.alarm_actions } },
    { for a in aws_cloudwatch_metric_alarm.function_throttles : a.alarm_name => { metric = a.metric_name, target = a.dimensions["FunctionName"], actions = a.alarm_actions } },
    { for a in aws_cloudwatch_metric_alarm.function_duration : a.alarm_name => { metric = a.metric_name, target = a.dimensions["FunctionName"], actions = a.alarm_actions } },
    { for a in aws_cloudwatch_metric_alarm.dlq_messages : a.alarm_name => { metric = a.metric_name, target = a.dimensions["QueueName"], actions = a.alarm_actions } },
    { for a in aws_cloudwatch_metric_alarm.queue_oldest_message : a.alarm_name => { metric = a.metric_name, target = a.dimensions["QueueName"], actions = a.alarm_actions } },
  )
}
