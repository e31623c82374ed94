"""The local Lambda service pinned against hand-made queues; collected before the features (a directory
sorts before their modules), so the shared stack's background work (webhooks, schedules) cannot interleave."""
