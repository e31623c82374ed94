@resilience
Feature: Transient gateway failures are retried
  When the gateway is briefly unavailable (a fault-injecting proxy in front of the local Stripe answers 503) the Stripe
  SDK retries once within the invocation; when that fails too, the handler reports the record as a batch item failure
  and sets its message's backoff (ChangeMessageVisibility: seconds, growing with the receive count), SQS redelivers
  it then, and the payment succeeds without a double charge.

  Background:
    Given the payment service is running

  Scenario: The gateway fails twice, then accepts the charge
    Given an order for 6100 minor units of "USD" paid with "pm_card_visa"
    And the gateway fails every charge attempt of the next 2 deliveries
    When the order is ready for payment
    Then the order's payment is recorded as "SUCCEEDED" for 6100 minor units of "USD"
    And the trigger was delivered 3 times
    And the order is charged exactly once
    And nothing for the order is in a dead-letter queue
