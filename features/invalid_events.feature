@contracts @validation
Feature: Invalid events are rejected without side effects
  A trigger that breaks its schema is never acted on: nothing is charged, recorded or published.
  The handler fails the record, so SQS redelivers it until maxReceiveCount and then keeps it in the
  dead-letter queue for an operator.

  Background:
    Given the payment service is running

  Scenario Outline: A payment trigger with <defect> is rejected
    Given an order for 4999 minor units of "USD" paid with "pm_card_visa"
    When an "order.ready_for_payment" event with <defect> is published for the order
    Then the trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries
    And no payment is recorded for the order
    And no event is published for the order
    And the gateway did not charge the order

    Examples:
      | defect                 |
      | no customerId          |
      | a negative amount      |
      | an unknown currency    |
      | an unexpected property |
      | a malformed eventId    |

  Scenario: A refund trigger with an amount of zero is rejected
    Given a paid order for 4200 minor units of "USD"
    When an "order.cancelled" event with a zero amount is published for the order
    Then the trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries
    And no refund is recorded for the order
    And no "refund.succeeded" event is published for the order
