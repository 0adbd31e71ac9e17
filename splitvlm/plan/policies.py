"""What a request allows to leave the edge, and the check every tier makes of a plan.

    enforce(plan, {Policy.PIXELS_STAY_ON_EDGE})    # PolicyViolation naming the policy and step

The planner only offers allowed plans; `enforce` is what makes a policy hold for every plan
however it was chosen (named, automatic, a cascade's escalation) on every tier the request
reaches, so a named plan cannot send an image off an edge whose request forbids it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from splitvlm.errors import PolicyViolation
from splitvlm.plan.plan import Plan, Tier
from splitvlm.wire.codecs import Encoding


class Policy(StrEnum):
    PIXELS_STAY_ON_EDGE = "pixels_stay_on_edge"  # no IMAGE or PNG hand-off, on any link
    OFFLINE = "offline"  # the edge runs everything; nothing leaves it


def enforce(plan: Plan, policies: Iterable[Policy]) -> None:
    """PolicyViolation if `plan` (or, for a cascade, its escalation) breaks a policy."""
    policies = frozenset(policies)
    if Policy.OFFLINE in policies:
        if len(plan.steps) > 1:
            raise PolicyViolation(f"policy offline: plan {plan.name or 'as sent'} "
                                  f"hands off to the {plan.steps[1].tier} tier; under offline "
                                  "nothing leaves the edge")
        if plan.escalation is not None:
            raise PolicyViolation(f"policy offline: cascade {plan.name} escalates to the "
                                  f"{plan.escalation.tier} tier; under offline nothing leaves "
                                  "the edge")
    if Policy.PIXELS_STAY_ON_EDGE in policies:
        for i, encoding in enumerate(plan.encodings):
            if encoding.is_pixels:
                raise PolicyViolation(
                    f"policy pixels_stay_on_edge: plan {plan.name or 'as sent'} "
                    f"sends the {'image' if plan.cut(i) == 0 else 'pixels'} ({encoding}) from "
                    f"the {plan.steps[i].tier} tier to the {plan.steps[i + 1].tier} tier")


def enforce_arrival(tier: Tier, encoding: Encoding, policies: Iterable[Policy]) -> None:
    """PolicyViolation if a payload of `encoding` reached `tier` against the policies: pixels
    beyond the edge under pixels_stay_on_edge or offline, anything under offline."""
    policies = frozenset(policies)
    if tier is Tier.EDGE:
        return
    if Policy.OFFLINE in policies:
        raise PolicyViolation(f"policy offline: the {tier} tier refuses this request's "
                              f"{encoding} payload; under offline nothing leaves the edge")
    if Policy.PIXELS_STAY_ON_EDGE in policies and encoding.is_pixels:
        raise PolicyViolation(f"policy pixels_stay_on_edge: the {tier} tier refuses this "
                              f"request's {encoding} payload")
