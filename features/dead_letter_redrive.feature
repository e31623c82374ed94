@operations @resilience
Feature: Dead letters are moved back to their queue
  A trigger that used all its receives waits in the dead-letter queue, and the DLQ alarm pages. Once the cause
  is fixed, `make redrive QUEUE=payment|refund` shows what is dead-lettered (count, age, event type, event id,
  order id; never the payment method) and moves it back to the queue it came from. A redriven trigger is decided
  again from the order's record, so the order is charged at most once.

  Background:
    Given the payment service is running

  Scenario: A payment trigger dead-lettered by an outage is redriven once the gateway is back
    Given an order for 5200 minor units of "USD" paid with "pm_card_visa"
    And the gateway fails every charge attempt for the order
    When the order is ready for payment
    Then the trigger waits in the payment dead-letter queue
    When the gateway is back and the payment dead letters are redriven as a dry run
    Then the redrive showed the order's trigger with its age and moved nothing
    And the trigger waits in the payment dead-letter queue
    When the payment dead letters are redriven
    Then exactly one "payment.succeeded" event is published for the order for 5200 minor units of "USD"
    And the gateway charged the order exactly once
    And nothing for the order is in a dead-letter queue
