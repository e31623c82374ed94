@payments @currencies
Feature: Currencies with 0, 2 and 3 minor-unit digits
  Amounts travel as integer minor units, so yen (no minor unit), dollars (cents) and Kuwaiti dinars
  (fils, three digits) are charged, recorded, refunded and published without rounding.

  Background:
    Given the payment service is running

  Scenario Outline: <currency> has <digits> minor-unit digits
    Given the currency "<currency>" has <digits> minor-unit digits
    And an order for <amount> minor units of "<currency>" paid with "pm_card_visa"
    When the order is ready for payment
    Then the order's payment is recorded as "SUCCEEDED" for <amount> minor units of "<currency>"
    And exactly one "payment.succeeded" event is published for the order for <amount> minor units of "<currency>"
    When a partial refund of <part> minor units of "<currency>" is requested
    Then exactly one "refund.succeeded" event is published for the order for <part> minor units of "<currency>"
    And the order's payment shows <part> minor units refunded

    Examples:
      | currency | digits | amount | part |
      | JPY      | 0      | 5400   | 400  |
      | USD      | 2      | 4999   | 1999 |
      | KWD      | 3      | 12345  | 2345 |
