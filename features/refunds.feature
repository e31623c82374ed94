@refunds
Feature: Refunds when an order is cancelled or cannot be fulfilled
  A paid order that is cancelled, or whose inventory reservation fails, is refunded in full, once.
  An order cancelled before it was paid can no longer be charged.

  Background:
    Given the payment service is running

  Scenario: A paid order is cancelled
    Given a paid order for 4200 minor units of "USD"
    When the order is cancelled
    Then exactly one "refund.succeeded" event is published for the order for 4200 minor units of "USD"
    And the order's refund is recorded as "SUCCEEDED" for 4200 minor units of "USD"
    And the order's payment shows 4200 minor units refunded
    And the gateway refunded 4200 minor units for the order

  Scenario: Inventory reservation fails after payment
    Given a paid order for 1500 minor units of "EUR"
    When inventory reservation fails for the order
    Then exactly one "refund.succeeded" event is published for the order for 1500 minor units of "EUR"
    And the order's payment shows 1500 minor units refunded

  Scenario: Both refund triggers arrive for one order
    Given a paid order for 990 minor units of "USD"
    When inventory reservation fails for the order
    And the order is cancelled
    Then exactly one "refund.succeeded" event is published for the order for 990 minor units of "USD"
    And the gateway refunded 990 minor units for the order

  Scenario: The order is cancelled before it is paid
    Given an order for 2500 minor units of "USD" paid with "pm_card_visa"
    When the order is cancelled
    And "refund.failed" is published for the order
    And the order is ready for payment
    Then exactly one "refund.failed" event is published for the order with code "no_payment"
    And exactly one "payment.failed" event is published for the order with code "order_cancelled"
    And no "payment.succeeded" event is published for the order
    And the gateway did not charge the order
