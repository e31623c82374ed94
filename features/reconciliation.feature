@resilience @later
Feature: Reconciliation finishes what nothing else will
  When the gateway stays down longer than the queue's redelivery horizon, the trigger ends in the
  dead-letter queue and its payment stays PENDING. The scheduled reconciliation pass finds it through the
  unfinished index, asks the gateway, cancels the attempt nobody confirmed and publishes the outcome once.

  Background:
    Given the payment service is running

  Scenario: A gateway outage sends the trigger to the DLQ; reconciliation publishes the outcome
    Given an order for 5100 minor units of "USD" paid with "pm_card_visa"
    And the gateway fails every charge attempt for the order
    When the order is ready for payment
    Then the trigger ends in the dead-letter queue after the queue's maxReceiveCount deliveries
    And the order's payment is recorded as "PENDING" for 5100 minor units of "USD"
    And no event is published for the order
    When the gateway is back and the payment is older than the reconciliation threshold
    And reconciliation runs
    Then exactly one "payment.failed" event is published for the order with code "gateway_unavailable"
    And no payment is left PENDING beyond the reconciliation threshold
    And the gateway did not charge the order
