# Short timeouts for emulators that really run the functions (EMULATOR=ministack or localstack).
#
# There, a failed message comes back only after its queue's visibility timeout, which the routing module keeps
# at 6 x the Lambda timeout (many minutes with the defaults: terraform/README.md), so a transient failure or an invalid event would take many
# minutes. tools/tf.sh adds this file to every plan and apply of envs/local when EMULATOR is ministack or
# localstack; against moto (the default) the local Lambda service invokes in-process and the defaults stay. The numbers keep the handler's per-record budget (novamart_payments.config.Config.record_budget_seconds)
# inside the Lambda timeout, as in production:
#
#   AWS:     7 calls at most x 1 attempt x (0.1 s connect + 0.1 s read)            = 1.4 s
#   Stripe:  4 requests at most x (0.4 s + the request budget's call 0.2 s and its
#            longest wait 0.1 s) (no SDK retries)                                 = 2.8 s
#   budget                                                                         = 4.2 s <= lambda_timeout_seconds (5)
#   visibility timeout = 6 x 5 s = 30 s (only a crashed invocation waits it out: a failed record's message comes
#   back after the backoff the function sets, envs/local's retry_schedule_seconds)
#
# batch_size 1: the handler starts a record after the first only with a whole budget left, which a 5 s
# invocation never has; one record per invocation keeps every delivery a first record.
# tests/reliability/test_budget.py checks these values.
lambda_timeout_seconds          = 5
batch_size                      = 1
aws_call_timeout_seconds        = 0.1
aws_max_attempts                = 1
stripe_timeout_seconds          = 0.4
stripe_max_network_retries      = 0
gateway_budget_max_wait_seconds = 0.1
