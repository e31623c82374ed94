@payments
Feature: Successful payment
  When an order is ready for payment, NovaMart charges the customer's payment method once,
  records the payment and tells the rest of the shop with a payment.succeeded event.

  Background:
    Given the payment service is running

  Scenario: An order ready for payment is charged and the payment is published
    Given an order for 4999 minor units of "USD" paid with "pm_card_visa"
    When the order is ready for payment
    Then the order's payment is recorded as "SUCCEEDED" for 4999 minor units of "USD"
    And exactly one "payment.succeeded" event is published for the order
    And the published payment names the order, the customer, the amount and a transaction id
    And the gateway charged the order exactly once

  Scenario: Inventory reservation alone also triggers the payment
    Given an order for 1250 minor units of "EUR" paid with "pm_card_visa"
    When inventory is reserved for the order
    Then the order's payment is recorded as "SUCCEEDED" for 1250 minor units of "EUR"
    And exactly one "payment.succeeded" event is published for the order
