"""Lambda entry points: one per function, sharing the SQS batch plumbing in ``_batch``."""
