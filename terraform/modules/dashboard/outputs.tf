output "dashboard_name" {
  description = "Name of the dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "metrics" {
  description = "Every metric the dashboard graphs, as namespace/name, for tests."
  value       = flatten([for w in local.body.widgets : [for m in w.properties.metrics : "${m[0]}/${m[1]}"]])
}

output "functions" {
  description = "Every function whose Lambda metrics the dashboard graphs (FunctionName dimension), for tests."
  value       = toset(flatten([for w in local.body.widgets : [for m in w.properties.metrics : m[3] if m[2] == "FunctionName"]]))
}
