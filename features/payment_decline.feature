@payments @declines
Feature: Declined payment
  A payment method the gateway declines leaves no money taken: the payment is recorded as failed
  with the gateway's reason and payment.failed is published. Retrying cannot change a decline,
  so the trigger is not redelivered.

  Background:
    Given the payment service is running

  Scenario Outline: The gateway declines the card (<card>)
    Given an order for 3000 minor units of "USD" paid with "<card>"
    When the order is ready for payment
    Then the order's payment is recorded as "FAILED" with code "<code>"
    And exactly one "payment.failed" event is published for the order with code "<code>"
    And no "payment.succeeded" event is published for the order
    And the gateway did not charge the order
    And every trigger for the order was delivered once

    # Stripe's documented test PaymentMethod ids and test cards, put on the bus as another team's producer would
    # send them: the local Stripe answers them as Stripe's test mode does (docs/gateway.md). Decline codes outside
    # the published enum (lost_card, stolen_card) are published as card_declined.
    # Cards that ask for 3-D Secure are not declines: three_d_secure.feature.
    Examples:
      | card                                    | code               |
      | 4000000000000341                        | card_declined      |
      | 4000000000009995                        | insufficient_funds |
      | pm_card_chargeDeclined                  | card_declined      |
      | pm_card_chargeDeclinedInsufficientFunds | insufficient_funds |
      | pm_card_chargeDeclinedExpiredCard       | expired_card       |
      | pm_card_chargeDeclinedIncorrectCvc      | incorrect_cvc      |
      | pm_card_chargeDeclinedProcessingError   | processing_error   |
      | pm_card_chargeDeclinedLostCard          | card_declined      |

  Scenario: A declined order has nothing to refund
    Given an order for 3000 minor units of "USD" paid with "4000000000000341"
    And the order is ready for payment
    And "payment.failed" is published for the order
    When the order is cancelled
    Then exactly one "refund.failed" event is published for the order with code "payment_not_captured"
    And the gateway refunded nothing for the order
