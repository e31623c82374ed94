@contracts
Feature: Published events conform to their schemas
  Every event the service publishes validates against the JSON Schema of its detail-type and major
  version, and points back at the event that caused it.

  Background:
    Given the payment service is running

  Scenario: Success, failure and refund events conform and carry their lineage
    Given a paid order for 8800 minor units of "USD"
    When a partial refund of 800 minor units of "USD" is requested
    And a partial refund of 9000 minor units of "USD" is requested
    And the order is cancelled
    Then every event published for the order conforms to its schema
    And every event published for the order names its trigger's eventId as causationId
    And every event published for the order keeps its trigger's correlationId
    And the published events for the order are "payment.succeeded, refund.succeeded, refund.failed, refund.succeeded"

  Scenario: A declined payment's event conforms
    Given an order for 100 minor units of "USD" paid with "4000000000000341"
    When the order is ready for payment
    Then every event published for the order conforms to its schema
    And every event published for the order names its trigger's eventId as causationId

  Scenario: Nothing published during this test run violated its schema
    Then no event published so far violated its schema
