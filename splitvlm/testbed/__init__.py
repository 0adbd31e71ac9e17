"""Emulated edge–fog–cloud testbed on one Linux machine.

Three network namespaces joined by veth pairs, `tc tbf` bandwidth limits on both ends of each
veth, a delaying TCP relay in front of the fog and cloud services (netem is unavailable), and
a cgroup v1 CPU quota on the edge. Needs root; `root_reason()` says why it cannot run.

    with Testbed(get_profile("lte"), services={...}, ports={...}) as bed: ...
"""

from splitvlm.testbed.bed import (
    DEFAULT_PORTS,
    Testbed,
    endpoints_for,
    testbed_down,
    testbed_status,
    testbed_up,
)
from splitvlm.testbed.errors import TestbedBusyError, TestbedError
from splitvlm.testbed.preflight import root_reason
from splitvlm.testbed.profiles import PROFILES, LinkSpec, Profile, get_profile

__all__ = [
    "DEFAULT_PORTS",
    "PROFILES",
    "LinkSpec",
    "Profile",
    "Testbed",
    "TestbedBusyError",
    "TestbedError",
    "endpoints_for",
    "get_profile",
    "root_reason",
    "testbed_down",
    "testbed_status",
    "testbed_up",
]
