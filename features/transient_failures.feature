@resilience
Feature: Transient gateway failures are retried
  When the gateway is briefly unavailable (a fault-injecting proxy in front of the local Stripe answers 503) the handler reports the record as a batch item failure,
  SQS redelivers it after the visibility timeout, and the payment succeeds without a double charge.
  (The local Lambda service shortens the visibility timeout of failed messages to emulate backoff.)

  Background:
    Given the payment service is running

  Scenario: The gateway fails twice, then accepts the charge
    Given an order for 6100 minor units of "USD" paid with "pm_card_visa"
    And the gateway fails the next 2 charge attempts
    When the order is ready for payment
    Then the order's payment is recorded as "SUCCEEDED" for 6100 minor units of "USD"
    And the trigger was delivered 3 times
    And the order is charged exactly once
    And nothing for the order is in a dead-letter queue
