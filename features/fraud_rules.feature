@payments @fraud
Feature: The risk rules decide before the charge
  After the order is claimed and before any gateway request, the risk rules (a JSON document in SSM Parameter
  Store, terraform/envs/local/risk-rules.json here) may block it: a blocked order costs no Stripe request,
  fails once with a fraud code, and no redelivery or second trigger ever charges it (docs/risk.md).

  Background:
    Given the payment service is running

  Scenario: A customer on the block list is refused without a gateway request
    Given an order for 2500 minor units of "USD" paid with "pm_card_visa"
    And the order's customer is "cus-fraud-demo"
    When the order is ready for payment
    Then exactly one "payment.failed" event is published for the order with code "fraud_suspected"
    And the gateway received no request for the order
    And the order's payment is recorded as "FAILED" with code "fraud_suspected"
    And every event published for the order conforms to its schema

  Scenario: The second trigger and a redelivery of a blocked order charge nothing
    Given an order for 2500 minor units of "USD" paid with "pm_card_visa"
    And the order's customer is "cus-fraud-demo"
    When the order is ready for payment
    And "payment.failed" is published for the order
    And inventory is reserved for the order
    And the same "order.ready_for_payment" event is delivered again
    Then exactly one "payment.failed" event is published for the order with code "fraud_suspected"
    And the gateway received no request for the order
    And the gateway did not charge the order

  Scenario: An order above its currency's amount limit is refused
    Given an order for 2000001 minor units of "USD" paid with "pm_card_visa"
    When the order is ready for payment
    Then exactly one "payment.failed" event is published for the order with code "risk_limit_exceeded"
    And the gateway received no request for the order

  Scenario: An order within the rules is charged
    Given an order for 2500 minor units of "USD" paid with "pm_card_visa"
    When the order is ready for payment
    Then exactly one "payment.succeeded" event is published for the order for 2500 minor units of "USD"
    And the gateway charged the order exactly once
