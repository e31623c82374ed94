@contracts @majors
Feature: A new major is published beside the old one for its deprecation window
  A consuming team moves to a new major of an event when it is ready, not when we deploy. While the old
  major's window lasts (lambda_src/novamart_payments/majors.py), every outcome goes out once per major in
  force, all with the same eventId: a consumer that pinned a major with an EventBridge rule on
  detail.metadata.schemaVersion receives every event in its major, and one fact is one eventId.

  Background:
    Given the payment service is running
    And a consumer of "refund.failed" subscribed with {"prefix": "1."}
    And a consumer of "refund.failed" subscribed with {"prefix": "2."}

  Scenario: An order cancelled before it is paid fails its refund in both majors
    Given an order for 2500 minor units of "USD" paid with "pm_card_visa"
    When the order is cancelled
    Then the "1." consumer receives exactly one "refund.failed" for the order, valid against its consumer schema v1
    And the "2." consumer receives exactly one "refund.failed" for the order, valid against its consumer schema v2
    And both consumers received the order's "refund.failed" with one eventId and code "no_payment"

  Scenario: A refund above the remainder fails in both majors, the failure explained in each major's words
    Given a paid order for 1000 minor units of "EUR"
    When a partial refund of 4000 minor units of "EUR" is requested
    Then the "1." consumer receives exactly one "refund.failed" for the order, valid against its consumer schema v1
    And the "2." consumer receives exactly one "refund.failed" for the order, valid against its consumer schema v2
    And both consumers received the order's "refund.failed" with one eventId and code "exceeds_refundable"
    And the "1." consumer's reason is the "2." consumer's failureReason

  Scenario: After the window only the new major goes out
    Given the window of "refund.failed" 1.x ended yesterday
    And an order for 2500 minor units of "USD" paid with "pm_card_visa"
    When the order is cancelled
    Then the "2." consumer receives exactly one "refund.failed" for the order, valid against its consumer schema v2
    And the "1." consumer receives no "refund.failed" for the order
