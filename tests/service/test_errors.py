"""The error tree maps onto status codes and back: the most specific class wins, anything
outside the tree is INTERNAL (a bug), and a client gets the class the server raised."""

from __future__ import annotations

import grpc
import pytest

from splitvlm import errors
from splitvlm.service.errors import error_from_rpc, message_for, status_for

S = grpc.StatusCode
DOCUMENTED = {  # the table in splitvlm/errors.py's docstring
    errors.BadRequest: S.INVALID_ARGUMENT, errors.QuestionError: S.INVALID_ARGUMENT,
    errors.ImageError: S.INVALID_ARGUMENT, errors.PlanError: S.INVALID_ARGUMENT,
    errors.WireError: S.INVALID_ARGUMENT, errors.NotFound: S.NOT_FOUND,
    errors.ImageNotHeld: S.NOT_FOUND, errors.FailedPrecondition: S.FAILED_PRECONDITION,
    errors.NoFeasiblePlan: S.FAILED_PRECONDITION, errors.DataLoss: S.DATA_LOSS,
    errors.PermissionDenied: S.PERMISSION_DENIED, errors.PolicyViolation: S.PERMISSION_DENIED,
    errors.Unauthenticated: S.UNAUTHENTICATED,
    errors.ChecksumMismatch: S.DATA_LOSS, errors.Overloaded: S.RESOURCE_EXHAUSTED,
    errors.NotAvailable: S.UNAVAILABLE, errors.TierUnavailable: S.UNAVAILABLE,
    errors.DeadlineExceeded: S.DEADLINE_EXCEEDED,
    errors.ServerError: S.INTERNAL,
}


def _instance(cls: type[errors.SplitVLMError]) -> errors.SplitVLMError:
    return cls("fog", "x") if cls is errors.TierUnavailable else cls("x")  # type: ignore[call-arg]


def _tree(cls: type[errors.SplitVLMError]) -> set[type[errors.SplitVLMError]]:
    return {cls}.union(*(_tree(sub) for sub in cls.__subclasses__()))


def test_every_class_of_the_tree_has_its_documented_status() -> None:
    served = _tree(errors.SplitVLMError) - {errors.SplitVLMError, errors.ConfigError}
    from splitvlm.engine.errors import EngineClosed, QueueFull

    assert served - {EngineClosed, QueueFull} == set(DOCUMENTED)
    for cls, code in DOCUMENTED.items():
        assert status_for(_instance(cls)) is code, cls
    assert status_for(QueueFull("x")) is S.RESOURCE_EXHAUSTED
    assert status_for(EngineClosed("x")) is S.UNAVAILABLE


@pytest.mark.parametrize("bug", [ValueError("bad"), KeyError("k"), TypeError("t"),
                                 AssertionError()])
def test_anything_outside_the_tree_is_internal_with_the_request_id(bug: Exception) -> None:
    assert status_for(bug) is S.INTERNAL
    message = message_for(bug, "req-42")
    assert "req-42" in message and type(bug).__name__ in message


class _Rpc(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str, raised: str = "") -> None:
        self._code, self._details, self._raised = code, details, raised

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("splitvlm-error", self._raised),) if self._raised else ()

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


@pytest.mark.parametrize("cls", sorted(set(DOCUMENTED) - {errors.NotFound,
                                                             errors.TierUnavailable}, key=str))
def test_a_client_gets_back_the_status_level_class(cls: type[errors.SplitVLMError]) -> None:
    got = error_from_rpc(_Rpc(status_for(cls("x")), "what went wrong"))
    assert isinstance(got, errors.SplitVLMError)
    assert str(got) == "what went wrong"
    # the client sees the class of the status (a NoFeasiblePlan comes back a
    # FailedPrecondition), retryable as the server's was
    assert got.retryable == cls.retryable
    assert isinstance(cls("x"), type(got))


def test_an_unknown_status_is_a_server_error_naming_it() -> None:
    got = error_from_rpc(_Rpc(S.UNIMPLEMENTED, "no such method"))
    assert type(got) is errors.ServerError
    assert str(got) == "UNIMPLEMENTED: no such method"


@pytest.mark.parametrize(("code", "raised", "expected"), [
    (S.INVALID_ARGUMENT, "QuestionError", errors.QuestionError),
    (S.NOT_FOUND, "ImageNotHeld", errors.ImageNotHeld),
    (S.FAILED_PRECONDITION, "NoFeasiblePlan", errors.NoFeasiblePlan),
    (S.INVALID_ARGUMENT, "ImageNotHeld", errors.BadRequest),  # not under the status's class
    (S.INVALID_ARGUMENT, "ValueError", errors.BadRequest),  # not in the tree
])
def test_the_raised_class_travels_in_trailing_metadata(
        code: grpc.StatusCode, raised: str, expected: type[errors.SplitVLMError]) -> None:
    assert type(error_from_rpc(_Rpc(code, "m", raised))) is expected


def test_an_unavailable_tier_is_named_across_the_call() -> None:
    rpc = _Rpc(S.UNAVAILABLE, "the fog tier is unreachable", "TierUnavailable")
    rpc.trailing_metadata = lambda: (("splitvlm-error", "TierUnavailable"),  # type: ignore
                                     ("splitvlm-tier", "fog"))
    got = error_from_rpc(rpc)
    assert isinstance(got, errors.TierUnavailable) and got.tier == "fog"
    assert str(got) == "the fog tier is unreachable" and got.retryable
