"""NovaMart payment service: payment and refund Lambdas driven by EventBridge through SQS."""
