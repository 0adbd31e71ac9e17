"""Errors of the engine, in splitvlm's tree (see splitvlm.errors).

    SplitVLMError
     ├── Overloaded
     │    └── QueueFull      retryable: the waiting queue is full (RESOURCE_EXHAUSTED)
     ├── NotAvailable
     │    └── EngineClosed   this engine was stopped or failed; use another (UNAVAILABLE)
     └── BadRequest          a malformed request: bad visual shape, empty or too long prompt
                             (also a ValueError; INVALID_ARGUMENT)
"""

from __future__ import annotations

from splitvlm.errors import BadRequest, NotAvailable, Overloaded

__all__ = ["BadRequest", "EngineClosed", "QueueFull"]


class QueueFull(Overloaded):
    """The engine's waiting queue is full. Recoverable: retry later or on another tier."""


class EngineClosed(NotAvailable):
    """The engine was stopped (or its loop failed) and takes no more requests."""
