@payments @later
Feature: Disputes are published
  When the customer's bank opens a dispute (a chargeback) on a captured payment, Stripe tells the webhook
  function and payment.disputed goes out once, so the order and finance teams hear of it.

  Background:
    Given the payment service is running

  Scenario: A captured payment is disputed
    Given an order for 2599 minor units of "USD" paid with "4000000000000259"
    When the order is ready for payment
    And "payment.disputed" is published for the order
    Then exactly one "payment.succeeded" event is published for the order for 2599 minor units of "USD"
    And exactly one "payment.disputed" event is published for the order for 2599 minor units of "USD"
    And every event published for the order conforms to its schema
