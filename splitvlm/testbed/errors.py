"""Errors raised by the testbed.

    TestbedError            a system step failed (ip, tc, cgroup, a process); not recoverable
                            in place: run `down()` and retry after fixing the cause
    └── TestbedBusyError    a testbed with this prefix is already up; run `down()` first
"""


class TestbedError(RuntimeError):
    """A step of bringing the testbed up or down failed."""


class TestbedBusyError(TestbedError):
    """A testbed with the same prefix (namespaces or state file) already exists."""
