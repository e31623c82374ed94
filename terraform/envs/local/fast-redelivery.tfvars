# Short timeouts for emulators that really run the functions (EMULATOR=ministack or localstack).
#
# There, a failed message comes back only after its queue's visibility timeout, which the routing module keeps
# at 6 x the Lambda timeout (many minutes with the defaults: terraform/README.md), so a transient failure or an invalid event would take many
# minutes. tools/tf.sh adds this file to every plan and apply of envs/local when EMULATOR is ministack or
# localstack; against moto (the default) the local Lambda service shortens redelivery instead and the defaults
# stay. The numbers keep the handler's per-record budget (novamart_payments.config.Config.record_budget_seconds)
# inside the Lambda timeout, as in production:
#
#   AWS:     7 calls at most x 1 attempt x (0.1 s connect + 0.1 s read) = 1.4 s
#   Stripe:  4 requests at most x 0.4 s (no SDK retries)                = 1.6 s
#   budget                                                              = 3.0 s <= lambda_timeout_seconds (3)
#   visibility timeout = 6 x 3 s = 18 s; maxReceiveCount 3 (the transient scenario needs 3 deliveries)
#
# batch_size 1: the handler starts a record after the first only with a whole budget left, which a 3 s
# invocation never has; one record per invocation keeps every delivery a first record.
# tests/reliability/test_budget.py checks these values.
lambda_timeout_seconds   = 3
max_receive_count        = 3
batch_size               = 1
aws_call_timeout_seconds = 0.1
aws_max_attempts         = 1
stripe_timeout_seconds   = 0.4
