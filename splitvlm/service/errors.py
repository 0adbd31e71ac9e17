"""splitvlm exceptions <-> gRPC status codes, on both sides of a call."""

from __future__ import annotations

import grpc

from splitvlm.errors import (
    BadRequest,
    DeadlineExceeded,
    NotAvailable,
    Overloaded,
    ServerError,
    SplitVLMError,
)

TO_CODE: dict[type[SplitVLMError], grpc.StatusCode] = {
    BadRequest: grpc.StatusCode.INVALID_ARGUMENT,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    NotAvailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
}
FROM_CODE = {code: cls for cls, code in TO_CODE.items()}


def status_for(exc: BaseException) -> grpc.StatusCode | None:
    """The status a server answers for `exc`; None for a bug (let it surface as INTERNAL)."""
    for cls, code in TO_CODE.items():
        if isinstance(exc, cls):
            return code
    if isinstance(exc, ValueError):  # WireError, PlanError, ImageDecodeError: bad input
        return grpc.StatusCode.INVALID_ARGUMENT
    return None


def error_from_rpc(exc: grpc.RpcError) -> SplitVLMError:
    """The splitvlm exception for a failed call (raise it `from exc`)."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = exc.details() if hasattr(exc, "details") else str(exc)
    cls = FROM_CODE.get(code, ServerError)
    return cls(f"{code.name}: {details}" if cls is ServerError else str(details))
