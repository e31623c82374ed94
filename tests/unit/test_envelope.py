"""What the envelope refuses before validation: card-shaped text, and nothing that merely looks numeric."""

from __future__ import annotations

import re
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from novamart_payments import envelope
from novamart_payments.envelope import card_like


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "ord-4242424242424242",
        "card 4242 4242 4242 4242",
        "4242-4242-4242-4242",
        "378282246310005",
        "3782 822463 10005",
        "6011111111111117",
        "5555555555554444",
    ],
)
def test_card_numbers_in_a_run_or_in_their_groups_are_card_like(text: str) -> None:
    assert card_like(text)


@pytest.mark.parametrize(
    "text",
    [
        "12345678-1234-1234-1234-123456789012",
        "9e50099b-4242-4242-4242-4242abcdef01",
        "2026-11-26T10:00:00.000Z",
        "4242424242424241",
        "ord-20261126-5501",
        "corr-123412341234",
    ],
)
def test_ids_timestamps_and_non_luhn_runs_are_not(text: str) -> None:
    assert not card_like(text)


def test_no_random_uuid_is_ever_card_like() -> None:
    digits_only = [str(uuid.UUID(int=n * 0x1000100010001)) for n in range(1, 2000)]
    assert not any(card_like(u) for u in digits_only + [str(uuid.uuid4()) for _ in range(20_000)])


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789 -x", max_size=60))
def test_the_prefilter_never_hides_a_card_the_full_pattern_finds(text: str) -> None:
    # The prefilter is a necessary condition of every alternative of the full pattern; texts made of digits,
    # spaces and dashes are where a gap between the two would show.
    full = any(envelope._luhn(re.sub(r"[ -]", "", m.group())) for m in envelope._CARD_LIKE.finditer(text))
    assert card_like(text) == full
