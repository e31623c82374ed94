@operations
Feature: Published events are replayed from the archive
  Everything the service publishes is kept in an EventBridge archive. When a consumer lost events (a broken
  rule, a deleted queue), `make replay FROM=... TO=...` replays that window to the bus: every subscriber gets
  the events again with the same eventId, and deduplicates them. The service does not consume what it
  publishes, so a replay moves no money.

  Background:
    Given the payment service is running

  Scenario: A window of published events is delivered again, with the same event ids
    Given the time before the order is placed
    And a paid order for 2100 minor units of "USD"
    When the events published since then are replayed from the archive
    Then the order's "payment.succeeded" event is delivered again with the same eventId
    And exactly one "payment.succeeded" event is published for the order
    And the gateway charged the order exactly once
