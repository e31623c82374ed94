# An EventBridge archive of everything the service publishes (source novamart.payments), so a window of published
# events can be replayed to the bus (`make replay FROM=... TO=...`, docs/runbook.md) when a consumer lost them.
# Consumers deduplicate by eventId (docs/events/delivery.md), so a replay is safe for them; the service does not
# consume what it publishes.
resource "aws_cloudwatch_event_archive" "this" {
  count = var.enabled ? 1 : 0

  name             = var.name
  description      = "Events published by ${var.source_name}, for replay (docs/runbook.md)."
  event_source_arn = var.event_bus_arn
  event_pattern    = jsonencode({ source = [var.source_name] })
  retention_days   = var.retention_days
}
