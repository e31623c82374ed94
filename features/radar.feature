@payments @fraud
Feature: Stripe Radar's signals
  A charge Radar blocks fails with its own fraud code, not a plain decline; an early fraud warning on a captured
  charge refunds it once, before a dispute arrives, and a review closed as refunded as fraud publishes Stripe's own
  refund once (docs/risk.md). The local Stripe emulates Radar for Stripe's
  documented test cards.

  Background:
    Given the payment service is running

  Scenario: A charge Radar blocks fails as radar_blocked
    Given an order for 3100 minor units of "USD" paid with "4100000000000019"
    When the order is ready for payment
    Then exactly one "payment.failed" event is published for the order with code "radar_blocked"
    And the gateway did not charge the order
    And every event published for the order conforms to its schema

  Scenario: An early fraud warning refunds the charge once, as fraud
    Given an order for 5400 minor units of "USD" paid with "4000000000005423"
    When the order is ready for payment
    And "refund.succeeded" is published for the order
    Then exactly one "payment.succeeded" event is published for the order for 5400 minor units of "USD"
    And exactly one "refund.succeeded" event is published for the order for 5400 minor units of "USD"
    And the order's refund names the reason "fraudulent"
    And the gateway refunded 5400 minor units for the order
    And every event published for the order conforms to its schema

  Scenario: A review closed as refunded as fraud publishes Stripe's refund once
    Given an order for 4700 minor units of "USD" paid with "4242424242424242"
    When the order is ready for payment
    And the merchant closes the order's Radar review as refunded as fraud
    And "refund.succeeded" is published for the order
    Then exactly one "refund.succeeded" event is published for the order for 4700 minor units of "USD"
    And the order's refund names the reason "fraudulent"
    And the gateway refunded 4700 minor units for the order
    And every event published for the order conforms to its schema
