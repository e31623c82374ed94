"""How big the reliability run is, and what it reports at its end.

Profiles are keyed on ``RELIABILITY_PROFILE``: ``default`` is the fast subset ``make test`` runs, ``full`` the
matrix ``make test-reliability`` runs. Their Hypothesis settings are registered here and applied to the reliability
tests only (never loaded globally), so other suites' Hypothesis settings are untouched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings


@dataclass(frozen=True)
class Profile:
    name: str
    state_machine_examples: int
    state_machine_steps: int
    load_events: int


PROFILES = {
    "default": Profile("default", state_machine_examples=30, state_machine_steps=25, load_events=300),
    "full": Profile("full", state_machine_examples=250, state_machine_steps=40, load_events=2000),
}
PROFILE = PROFILES[os.environ.get("RELIABILITY_PROFILE", "default")]

for _p in PROFILES.values():
    settings.register_profile(
        f"reliability-{_p.name}",
        max_examples=_p.state_machine_examples,
        stateful_step_count=_p.state_machine_steps,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
        print_blob=True,
    )
HYPOTHESIS_SETTINGS = settings.get_profile(f"reliability-{PROFILE.name}")

# Figures tests want shown at the end of the run (events per second, examples run), in insertion order.
REPORT: dict[str, str] = {}
