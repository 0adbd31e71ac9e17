"""splitvlm's exceptions. Servers map them to gRPC status codes; the SDK maps codes back.

    SplitVLMError
     ├── BadRequest        INVALID_ARGUMENT   fix the request (message says what)
     ├── Overloaded        RESOURCE_EXHAUSTED retry later or elsewhere
     ├── NotAvailable      UNAVAILABLE        a tier is down or unreachable; retryable
     ├── DeadlineExceeded  DEADLINE_EXCEEDED  the latency budget ran out
     └── ServerError       INTERNAL / other   a bug: report it

Errors the core raises as ValueError (WireError, PlanError, ImageDecodeError) are bad input
too, and map to INVALID_ARGUMENT.
"""

from __future__ import annotations


class SplitVLMError(Exception):
    """Base of every splitvlm error. `retryable` says whether trying again may succeed."""

    retryable = False


class BadRequest(SplitVLMError, ValueError):
    """The request cannot be served as sent."""


class Overloaded(SplitVLMError):
    retryable = True


class NotAvailable(SplitVLMError):
    retryable = True


class DeadlineExceeded(SplitVLMError):
    retryable = True


class ServerError(SplitVLMError):
    """Anything else the server reported."""
