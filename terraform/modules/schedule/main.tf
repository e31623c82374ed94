# An EventBridge schedule that invokes one function (reconciliation runs every 5 minutes).
resource "aws_cloudwatch_event_rule" "this" {
  name                = var.name
  description         = var.description
  schedule_expression = var.schedule_expression
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule = aws_cloudwatch_event_rule.this.name
  arn  = var.function_arn
}

resource "aws_lambda_permission" "this" {
  statement_id  = "RunBySchedule"
  action        = "lambda:InvokeFunction"
  function_name = var.function_arn
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this.arn
}
