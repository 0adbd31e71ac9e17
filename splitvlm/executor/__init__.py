"""The one executor every tier runs: my stages, forward the rest, relay the token stream.

No grpc here: the transport to the next tier is a `NextHop` (splitvlm.executor.transport): the
in-process one (splitvlm.executor.local) or the gRPC one the service layer provides.
"""

from splitvlm.executor.executor import Executor
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
from splitvlm.executor.transport import Downstream, Forwarded, Forwarder, NextHop

__all__ = [
    "CacheMissEvent", "Downstream", "Event", "Executor", "Forwarded", "Forwarder",
    "LinkTransfer", "NextHop", "Payload", "Request", "ResultEvent", "StageTiming", "TokenEvent",
]
