@contracts @validation
Feature: Invalid events are rejected without side effects
  A trigger that breaks its schema is never acted on: nothing is charged, recorded or published.
  The handler fails the record, so SQS redelivers it until maxReceiveCount and then keeps it in the
  dead-letter queue for an operator.

  Background:
    Given the payment service is running

  Scenario: Payment triggers that break their schema are rejected
    Each defect is sent for an order of its own, all at once: where the emulator runs the functions,
    redelivery waits for the queue's visibility timeout, and the defects' redeliveries then overlap.

    When an "order.ready_for_payment" event for 4999 minor units of "USD" is published with each of these defects, one order per defect
      | defect                 |
      | no customerId          |
      | a negative amount      |
      | an unknown currency    |
      | an unexpected property |
      | a malformed eventId    |
    Then each trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries
    And no payment is recorded for any of the orders
    And no event is published for any of the orders
    And the gateway did not charge any of the orders

  Scenario: A refund trigger with an amount of zero is rejected
    Given a paid order for 4200 minor units of "USD"
    When an "order.cancelled" event with a zero amount is published for the order
    Then the trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries
    And no refund is recorded for the order
    And no "refund.succeeded" event is published for the order
