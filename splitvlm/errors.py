"""splitvlm's exceptions: one tree. Servers map it (and nothing else) to gRPC status codes; the
SDK maps the codes back to the same classes, raised `from` the grpc.RpcError behind them.

    SplitVLMError                      retryable?  status               what to do
     ├── BadRequest                    no          INVALID_ARGUMENT     fix the request (the
     │    │                                                              message says what)
     │    ├── QuestionError            no                               a question outside the
     │    │                                                              vocabulary or grammar
     │    ├── ImageError               no                               undecodable image bytes
     │    ├── PlanError                no                               a plan that cannot run
     │    └── WireError                no                               a payload that fails
     │                                                                   validation (size, frame,
     │                                                                   shape, chunk order)
     ├── NotFound                      no          NOT_FOUND            e.g. an image key the
     │    └── ImageNotHeld                                               edge no longer holds:
     │                                                                   send the image again
     ├── FailedPrecondition            yes         FAILED_PRECONDITION  the system is not in a
     │    └── NoFeasiblePlan                                             state to serve it: no
     │                                                                   plan meets the policy
     │                                                                   and reachability now
     ├── Unauthenticated               no          UNAUTHENTICATED      no valid token or
     │                                                                   certificate
     ├── PermissionDenied              no          PERMISSION_DENIED    not allowed: this caller
     │    └── PolicyViolation                                            here, or the request's
     │                                                                   policy forbids the plan
     ├── DataLoss                      yes         DATA_LOSS            bytes corrupted in
     │    └── ChecksumMismatch (also a WireError)                        transit: send again
     ├── Overloaded                    yes         RESOURCE_EXHAUSTED   retry later or elsewhere
     ├── NotAvailable                  yes         UNAVAILABLE          a tier is down or
     │    └── TierUnavailable                                            unreachable (`.tier`
     │                                                                   names which)
     ├── DeadlineExceeded              yes         DEADLINE_EXCEEDED    the latency budget ran
     │                                                                   out
     ├── ConfigError                   no          (start-up only)      a configuration value
     │                                                                   that cannot be used
     └── ServerError                   no          INTERNAL / other     a bug in splitvlm: report
                                                                         it with the request id

Anything a server raises outside this tree is a bug: it answers INTERNAL with the request id
and logs the traceback under it. The core never raises a bare ValueError for bad input; it
raises the class above that says whose fault it is.
"""

from __future__ import annotations


class SplitVLMError(Exception):
    """Base of every splitvlm error. `retryable`: whether trying again (later, or the same
    request elsewhere) may succeed without changing the request."""

    retryable = False


class BadRequest(SplitVLMError, ValueError):
    """The request cannot be served as sent; the message says what to change."""


class QuestionError(BadRequest):
    """A question the model cannot read: empty, too long, or words outside its vocabulary."""


class ImageError(BadRequest):
    """Image bytes that are not a decodable JPEG/PNG, or an unusable image array."""


class PlanError(BadRequest):
    """A plan that cannot run: the message names the step or hand-off at fault."""


class WireError(BadRequest):
    """A payload that cannot be trusted or decoded: wrong size, broken lz4 frame, shape
    mismatch, chunks out of order, over a size cap. Not recoverable by decoding again."""


class NotFound(SplitVLMError):
    """Something the request refers to does not exist here."""


class ImageNotHeld(NotFound):
    """A key-only turn names an image this edge does not hold (evicted, or never sent)."""


class FailedPrecondition(SplitVLMError):
    """The request is fine but the system cannot serve it in its current state."""

    retryable = True


class NoFeasiblePlan(FailedPrecondition):
    """No candidate plan satisfies the request's policy, reachability and the profiles.
    Recoverable: relax the policy, or retry once the unreachable tier is back."""


class Unauthenticated(SplitVLMError):
    """The caller did not prove who it is: no bearer token or certificate the tier accepts."""


class PermissionDenied(SplitVLMError):
    """The caller may not do this."""


class PolicyViolation(PermissionDenied):
    """A plan (or a payload) that would break the request's policy: pixels off the edge under
    pixels_stay_on_edge, anything off it under offline. The message names the policy and the
    step at fault."""


class DataLoss(SplitVLMError):
    """Bytes were corrupted between sender and receiver; sending them again may succeed."""

    retryable = True


class ChecksumMismatch(DataLoss, WireError):
    """A tensor whose bytes do not hash to the digest sent with them."""


class Overloaded(SplitVLMError):
    """Too much work here; retry later or on another tier. `retry_after_s`, when the server
    said it (gRPC's `grpc-retry-pushback-ms`), is when a slot is expected to be free."""

    retryable = True

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class NotAvailable(SplitVLMError):
    """A tier is down or unreachable."""

    retryable = True


class TierUnavailable(NotAvailable):
    """A named tier did not answer (refused, reset, or silent past the connect budget) before
    the request reached it. The edge plans around it; `tier` is its name. `suspected`: it was
    only silent past the short fallback budget, which a busy but live tier can miss; the edge
    asks for its status before planning around it."""

    def __init__(self, tier: str, message: str, suspected: bool = False) -> None:
        super().__init__(message)
        self.tier = tier
        self.suspected = suspected


class DeadlineExceeded(SplitVLMError):
    """The request's latency budget ran out."""

    retryable = True


class ConfigError(SplitVLMError, ValueError):
    """A configuration value (file, environment, command line) that cannot be used; the
    message names the field and the bad value."""


class ServerError(SplitVLMError):
    """Anything else a server reported: a bug in splitvlm."""
