"""The one executor every tier runs: my stages, forward the rest, relay the token stream.

No grpc here: the transport to the next tier is a `Forwarder` the service layer provides.
"""

from splitvlm.executor.executor import Executor, Forwarder
from splitvlm.executor.messages import (
    CacheMissEvent,
    Event,
    LinkTransfer,
    Payload,
    Request,
    ResultEvent,
    StageTiming,
    TokenEvent,
)

__all__ = [
    "CacheMissEvent", "Event", "Executor", "Forwarder", "LinkTransfer", "Payload", "Request",
    "ResultEvent", "StageTiming", "TokenEvent",
]
