output "alarm_names" {
  description = "Alarm names grouped by kind, each keyed like the input maps."
  value = {
    for kind in local.kinds : kind => {
      for id, spec in local.alarms : spec.key => aws_cloudwatch_metric_alarm.this[id].alarm_name if spec.kind == kind
    }
  }
}

output "alarm_dimensions" {
  description = "What each alarm watches (metric and dimension value), keyed by alarm name; for tests."
  value = {
    for id, a in aws_cloudwatch_metric_alarm.this : a.alarm_name => {
      metric = a.metric_name, target = local.alarms[id].target, actions = a.alarm_actions
    }
  }
}
