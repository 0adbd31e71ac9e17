"""AskOptions: one string is one policy, presets by name, bad values name their field."""

from __future__ import annotations

import pytest

from splitvlm.errors import BadRequest
from splitvlm.sdk import AskOptions, Policy, Preset


def test_one_policy_string_is_one_policy_not_its_letters() -> None:
    assert AskOptions(policy="offline").policy == {Policy.OFFLINE}  # type: ignore[arg-type]
    both = AskOptions(policy=["offline", Policy.PIXELS_STAY_ON_EDGE])  # type: ignore[arg-type]
    assert both.policy == {Policy.OFFLINE, Policy.PIXELS_STAY_ON_EDGE}


def test_presets_by_name_and_the_default() -> None:
    assert AskOptions(preset="most-accurate").preset is Preset.MOST_ACCURATE  # type: ignore[arg-type]
    assert AskOptions(preset="").preset is None  # type: ignore[arg-type]
    assert AskOptions().with_fields(plan="edge-only", preset=None).plan == "edge-only"


@pytest.mark.parametrize(("fields", "message"), [
    ({"policy": "ofline"}, "policy 'ofline' is unknown; policies are"),
    ({"preset": "quick"}, "preset='quick'; expected one of"),
    ({"deadline_s": 0}, "deadline_s=0; expected seconds > 0"),
    ({"max_new_tokens": -1}, "max_new_tokens=-1"),
])
def test_bad_values_name_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        AskOptions().with_fields(**fields)


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"unknown ask option\(s\) \['polcy'\]"):
        AskOptions().with_fields(polcy="offline")
