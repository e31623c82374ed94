"""The dev tooling of NovaMart Payments: one module per concern, one command line (``python -m tools.devstack``).

Emulator processes: ``processes`` (detached servers, pid files), ``moto_server``, ``ministack``, ``stripe_local``
and ``stripe_faults`` (the local Stripe and its fault proxy), ``moto_patches``.
The Lambda stand-in: ``lambda_runtime`` (invoke a function in-process: handler, context, environment) and
``lambda_service`` (the SQS event-source mapping poller), with ``sqs_records`` (the records Lambda builds), and
``urls_and_schedules`` (the functions no queue feeds: function URLs served on loopback, rate schedules).
Stack discovery: ``stack``. Event builders: ``events``. Table and audit readers: ``tables``, ``audit``.
Terminal output: ``output``. Environment and clients: ``aws``. The subcommands: ``commands``; the parser: ``cli``.

The tests import these modules directly. Nothing is re-exported here, so that every import names its room.
"""
