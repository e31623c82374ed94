@refunds @later
Feature: Refunds that settle later
  Some refunds are accepted by the gateway but settle days later. The refund stays PENDING, with no
  event, until Stripe's webhook says how it ended; a refund that fails gives its amount back to the
  payment's refundable balance.

  Background:
    Given the payment service is running

  Scenario: A refund is pending, then succeeds
    Given an order for 2500 minor units of "USD" paid with "4000000000007726"
    And the order is ready for payment
    And "payment.succeeded" is published for the order
    When the order is cancelled
    Then the order's refund is recorded as "PENDING" for 2500 minor units of "USD"
    And no "refund.succeeded" event is published for the order
    When the gateway settles the order's refund as "succeeded"
    Then exactly one "refund.succeeded" event is published for the order for 2500 minor units of "USD"
    And the order's refund is recorded as "SUCCEEDED" for 2500 minor units of "USD"

  Scenario: A refund is pending, then fails
    Given an order for 2500 minor units of "USD" paid with "4000000000007726"
    And the order is ready for payment
    And "payment.succeeded" is published for the order
    When the order is cancelled
    And the gateway settles the order's refund as "failed"
    Then exactly one "refund.failed" event is published for the order
    And the order's payment shows 0 minor units refunded
