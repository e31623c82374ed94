@later @webhooks
Feature: Stripe's webhooks are verified, handled once and converge
  The webhook function behind the function URL accepts only fresh events signed with the endpoint's
  signing secret. An event is handled once by its id; because every notification is settled from what
  Stripe says now, and a payment's status only moves forward, replays and late events change nothing.

  Background:
    Given the payment service is running

  Scenario: A webhook is replayed
    Given an order for 3900 minor units of "USD" paid with "4000002760003184"
    And the order is ready for payment
    And "payment.action_required" is published for the order
    And the customer completes authentication
    And "payment.succeeded" is published for the order
    When Stripe delivers the order's "payment_intent.succeeded" event again
    Then the webhook is answered 200
    And exactly one "payment.succeeded" event is published for the order
    And the order is charged exactly once

  Scenario: A webhook with a bad signature changes nothing
    Given an order for 3900 minor units of "USD" paid with "4000002760003184"
    And the order is ready for payment
    And "payment.action_required" is published for the order
    When a "payment_intent.succeeded" event for the order's intent is posted with a wrong signature
    Then the webhook is answered 400
    And the order's payment is recorded as "REQUIRES_ACTION" for 3900 minor units of "USD"
    And no "payment.succeeded" event is published for the order
    And no webhook event is recorded as handled for the order

  Scenario: Webhooks arrive out of order
    Given an order for 3900 minor units of "USD" paid with "4000002760003184"
    And the order is ready for payment
    And "payment.action_required" is published for the order
    And the customer completes authentication
    And "payment.succeeded" is published for the order
    When an older "payment_intent.payment_failed" event for the order's intent arrives late
    Then the webhook is answered 200
    And the order's payment is recorded as "SUCCEEDED" for 3900 minor units of "USD"
    And no "payment.failed" event is published for the order
    And exactly one "payment.succeeded" event is published for the order
