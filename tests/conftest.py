from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from config.models import Settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

ALL_WEEK = {d: ["06:00-08:00", "17:00-21:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {
    "sat": ["07:00-13:00"],
    "sun": ["07:00-13:00"],
}


def make_settings(**sections: Any) -> Settings:
    """A valid config with every day available; keyword arguments replace whole sections."""
    data: dict[str, Any] = {
        "timezone": "Europe/Berlin",
        "athlete": {"experience": "intermediate", "bodyweight_kg": 72.5},
        "goal": {"race": "none"},
        "availability": dict(ALL_WEEK),
    }
    for key, value in sections.items():
        data[key] = value
    # an athlete who already lifts, unless a test says otherwise: ease-in (L6) has its own tests
    data["athlete"] = {"lifting_now": True, **data["athlete"]}
    return Settings(**data)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("LIFTRUN_"):
            monkeypatch.delenv(key)
