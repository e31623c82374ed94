@payments @idempotency
Feature: Duplicate payment triggers
  EventBridge and SQS deliver at least once and both upstream services may ask for payment, so the
  same order can arrive several times. Whatever the number, order or timing of deliveries, the
  customer is charged once and consumers see one payment outcome.

  Background:
    Given the payment service is running

  Scenario: The same trigger is delivered twice
    Given an order for 2599 minor units of "USD" paid with "pm_card_visa"
    When the order is ready for payment
    And the same "order.ready_for_payment" event is delivered again
    Then the order is charged exactly once

  Scenario: Two copies of the trigger are processed concurrently
    Given an order for 7800 minor units of "USD" paid with "pm_card_visa"
    When two copies of the "order.ready_for_payment" event are delivered to concurrent invocations
    Then the order is charged exactly once

  Scenario: Both payment triggers arrive for one order
    Given an order for 1999 minor units of "GBP" paid with "pm_card_visa"
    When inventory is reserved for the order
    And the order is ready for payment
    Then the order is charged exactly once
    And the order's payment is recorded as "SUCCEEDED" for 1999 minor units of "GBP"

  Scenario: A second trigger with a different amount is refused without a second charge
    Given an order for 1000 minor units of "USD" paid with "pm_card_visa"
    When the order is ready for payment
    And the order is ready for payment again for 1500 minor units of "USD"
    Then the order is charged exactly once
    And the order's payment is recorded as "SUCCEEDED" for 1000 minor units of "USD"
