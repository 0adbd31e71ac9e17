"""splitvlm's error tree <-> gRPC status codes, on both sides of a call.

A server maps the tree (splitvlm.errors) and nothing else: the most specific class with a code
wins (ChecksumMismatch is a WireError, but DATA_LOSS). Any other exception is a bug: INTERNAL,
with the request id in the message and the traceback in the log under the same id.

The error's own class name travels in the trailing metadata (`splitvlm-error`), so a client
raises the same class (a QuestionError, not just a BadRequest) where it is one of the tree's
under the status's class; otherwise the status's class.
"""

from __future__ import annotations

import logging

import grpc

from splitvlm.errors import (
    BadRequest,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    NotAvailable,
    NotFound,
    Overloaded,
    PermissionDenied,
    ServerError,
    SplitVLMError,
    TierUnavailable,
    Unauthenticated,
)

TO_CODE: dict[type[SplitVLMError], grpc.StatusCode] = {
    BadRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    DataLoss: grpc.StatusCode.DATA_LOSS,
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,
    NotAvailable: grpc.StatusCode.UNAVAILABLE,
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,
    ServerError: grpc.StatusCode.INTERNAL,
}
FROM_CODE: dict[grpc.StatusCode, type[SplitVLMError]] = {
    code: cls for cls, code in TO_CODE.items()} | {
    grpc.StatusCode.CANCELLED: NotAvailable,  # the peer went away mid-call
}
ERROR_KEY = "splitvlm-error"  # trailing metadata: the class the server raised
TIER_KEY = "splitvlm-tier"  # ... and, for a TierUnavailable, the tier it names
PUSHBACK_KEY = "grpc-retry-pushback-ms"  # an Overloaded's retry delay (gRPC's own name)


def _tree(cls: type[SplitVLMError]) -> dict[str, type[SplitVLMError]]:
    out = {cls.__name__: cls}
    for sub in cls.__subclasses__():
        out |= _tree(sub)
    return out


def status_for(exc: BaseException) -> grpc.StatusCode:
    """The status a server answers for `exc`: its class's, or INTERNAL (a bug)."""
    for cls in type(exc).__mro__:
        code = TO_CODE.get(cls)  # type: ignore[call-overload]
        if code is not None:
            return code
    return grpc.StatusCode.INTERNAL


def message_for(exc: BaseException, request_id: str) -> str:
    """What the caller reads: the error's own message, or (a bug) where to find it."""
    if isinstance(exc, SplitVLMError):  # a ServerError too: a tier further on reported it
        return str(exc)
    return (f"internal error ({type(exc).__name__}) serving request {request_id}; the "
            "server's log has the traceback under this id")


async def abort(context: grpc.aio.ServicerContext, exc: BaseException, request_id: str,
                log: logging.Logger) -> None:
    """End a call with the status for `exc`; bugs are logged with their traceback."""
    if not isinstance(exc, SplitVLMError):
        log.error("request %s failed with a bug", request_id, exc_info=exc)
    else:
        metadata = [(ERROR_KEY, type(exc).__name__)]
        if isinstance(exc, TierUnavailable):
            metadata.append((TIER_KEY, exc.tier))
        if isinstance(exc, Overloaded) and exc.retry_after_s is not None:
            metadata.append((PUSHBACK_KEY, str(max(int(exc.retry_after_s * 1e3), 1))))
        context.set_trailing_metadata(tuple(metadata))
    await context.abort(status_for(exc), message_for(exc, request_id))


def error_from_rpc(exc: grpc.RpcError) -> SplitVLMError:
    """The splitvlm exception for a failed call (raise it `from exc`)."""
    code = exc.code() if hasattr(exc, "code") else grpc.StatusCode.UNKNOWN
    details = exc.details() if hasattr(exc, "details") else str(exc)
    cls = FROM_CODE.get(code, ServerError)
    trailers = _trailers(exc)
    raised = _tree(SplitVLMError).get(trailers.get(ERROR_KEY, ""))
    if raised is not None and issubclass(raised, cls):
        cls = raised
    if cls is TierUnavailable:
        return TierUnavailable(trailers.get(TIER_KEY, ""), str(details))
    if issubclass(cls, Overloaded) and trailers.get(PUSHBACK_KEY, "").isdigit():
        return cls(str(details), int(trailers[PUSHBACK_KEY]) / 1e3)  # type: ignore[call-arg]
    known = cls is not ServerError or code is grpc.StatusCode.INTERNAL
    return cls(str(details) if known else f"{code.name}: {details}")


def _trailers(exc: grpc.RpcError) -> dict[str, str]:
    metadata = exc.trailing_metadata() if hasattr(exc, "trailing_metadata") else None
    return {key: value for key, value in metadata or () if isinstance(value, str)}
