@refunds @partial
Feature: Partial refunds and the refund ceiling
  Part of a payment can be refunded (a returned item), each request identified by its requestId.
  Refunds together never exceed what was captured.

  Background:
    Given the payment service is running
    And a paid order for 10000 minor units of "USD"

  Scenario: Two partial refunds
    When a partial refund of 3000 minor units of "USD" is requested
    And a partial refund of 2500 minor units of "USD" is requested
    Then 2 "refund.succeeded" events are published for the order
    And the order's payment shows 5500 minor units refunded
    And the gateway refunded 5500 minor units for the order

  Scenario: A partial refund request delivered twice refunds once
    When a partial refund of 3000 minor units of "USD" is requested
    And the same "order.cancelled" event is delivered again
    Then exactly one "refund.succeeded" event is published for the order for 3000 minor units of "USD"
    And the gateway refunded 3000 minor units for the order

  Scenario: A partial refund above what is left is refused
    When a partial refund of 7000 minor units of "USD" is requested
    And a partial refund of 4000 minor units of "USD" is requested
    Then exactly one "refund.succeeded" event is published for the order for 7000 minor units of "USD"
    And exactly one "refund.failed" event is published for the order with code "exceeds_refundable"
    And the order's payment shows 7000 minor units refunded
    And the gateway refunded 7000 minor units for the order

  Scenario: Cancelling after a partial refund refunds only the rest
    When a partial refund of 3000 minor units of "USD" is requested
    And the order is cancelled
    Then 2 "refund.succeeded" events are published for the order
    And the order's payment shows 10000 minor units refunded
    And the gateway refunded 10000 minor units for the order
