"""The client SDK: ask the edge about an image, get the answer with its plan and costs.

    from splitvlm.sdk import Client
    with Client("127.0.0.1:50051") as client:
        answer = client.ask("frame.jpg", "how many circles are there ?", deadline_s=2.0)
        print(answer.text, answer.plan_description)

Errors are splitvlm's own tree (drawn in splitvlm.errors): BadRequest, ImageNotHeld (a
NotFound), FailedPrecondition (no feasible plan), DataLoss, Overloaded, NotAvailable,
DeadlineExceeded, ServerError — each raised `from` the grpc.RpcError behind it.
"""

from splitvlm.errors import (
    BadRequest,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    ImageNotHeld,
    NotAvailable,
    NotFound,
    Overloaded,
    ServerError,
    SplitVLMError,
)
from splitvlm.sdk.answer import Answer, Link, Timing
from splitvlm.sdk.client import AsyncClient, Client, Session
from splitvlm.sdk.images import ImageLike, image_bytes

__all__ = [
    "Answer", "AsyncClient", "BadRequest", "Client", "DataLoss", "DeadlineExceeded",
    "FailedPrecondition", "ImageLike", "ImageNotHeld", "Link", "NotAvailable", "NotFound",
    "Overloaded", "ServerError", "Session", "SplitVLMError", "Timing", "image_bytes",
]
