@payments @later
Feature: 3-D Secure: the payment waits for the customer
  When the bank asks the customer to authenticate, the payment is recorded as REQUIRES_ACTION and
  payment.action_required tells the storefront which intent to bring the customer back to (never a secret).
  The outcome arrives later: Stripe's webhook finishes the payment once the customer is done, and
  reconciliation cancels it when the customer never comes back before the deadline.

  Background:
    Given the payment service is running

  Scenario: The customer completes authentication
    Given an order for 4200 minor units of "EUR" paid with "4000002760003184"
    When the order is ready for payment
    Then the order's payment is recorded as "REQUIRES_ACTION" for 4200 minor units of "EUR"
    And exactly one "payment.action_required" event is published for the order
    And the action required names the order's payment intent and carries no secret
    And the gateway did not charge the order
    When the customer completes authentication
    Then exactly one "payment.succeeded" event is published for the order for 4200 minor units of "EUR"
    And the order's payment is recorded as "SUCCEEDED" for 4200 minor units of "EUR"
    And the order is charged exactly once

  Scenario: The customer fails authentication
    Given an order for 4200 minor units of "EUR" paid with "4000002760003184"
    And the order is ready for payment
    And "payment.action_required" is published for the order
    When the customer fails authentication
    Then exactly one "payment.failed" event is published for the order with code "authentication_required"
    And the order's payment is recorded as "FAILED" with code "authentication_required"
    And the gateway did not charge the order

  Scenario: The customer never comes back
    Given an order for 1800 minor units of "GBP" paid with "4000002760003184"
    And the order is ready for payment
    And "payment.action_required" is published for the order
    When the authentication deadline passes and reconciliation runs
    Then exactly one "payment.failed" event is published for the order with code "authentication_expired"
    And the order's payment intent is cancelled at the gateway
    And the gateway did not charge the order

  Scenario: The order is cancelled while the payment waits for the customer
    Given an order for 2600 minor units of "USD" paid with "4000002760003184"
    And the order is ready for payment
    And "payment.action_required" is published for the order
    When the order is cancelled
    Then exactly one "payment.failed" event is published for the order with code "order_cancelled"
    And exactly one "refund.failed" event is published for the order with code "payment_not_captured"
    And the order's payment intent is cancelled at the gateway
    And the gateway did not charge the order
