"""The client SDK: ask the edge about an image, get the answer with its plan and costs.

    from splitvlm.sdk import Client
    with Client("127.0.0.1:50051") as client:
        answer = client.ask("frame.jpg", "How many circles are there?", deadline_s=2.0)
        print(answer.text, answer.plan.name, answer.latency_s)
        for event in client.stream("frame.jpg", "describe the image"):
            ...                              # PlanEvent, TokenEvent..., AnswerEvent

Questions follow the vocabulary and grammar of docs/questions.md (typed as people type them:
`there?`, a trailing `.`, upper case are fine); an edge serving a Hugging Face VLM (`serve
--model`, docs/models.md) takes free text. Options: AskOptions or keywords (deadline_s,
plan, policy, preset, max_new_tokens, no_cache).

Errors are splitvlm's tree (drawn in splitvlm.errors): BadRequest, ImageNotHeld (a NotFound),
FailedPrecondition (no feasible plan), DataLoss, Overloaded, NotAvailable, DeadlineExceeded,
ServerError — each raised `from` the grpc.RpcError behind it.
"""

from splitvlm.errors import (
    BadRequest,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    ImageError,
    ImageNotHeld,
    NotAvailable,
    NotFound,
    Overloaded,
    PermissionDenied,
    PlanError,
    PolicyViolation,
    QuestionError,
    ServerError,
    SplitVLMError,
    TierUnavailable,
    Unauthenticated,
)
from splitvlm.executor.messages import LinkTransfer, TokenEvent
from splitvlm.plan.policies import Policy
from splitvlm.plan.presets import Preset
from splitvlm.sdk.answer import Answer, Timing
from splitvlm.sdk.client import AsyncClient, AsyncSession, Client, Session
from splitvlm.sdk.credentials import Credentials
from splitvlm.sdk.events import AnswerEvent, Event, PlanEvent
from splitvlm.sdk.images import ImageLike, image_bytes
from splitvlm.sdk.options import AskOptions

__all__ = [
    "Answer", "AnswerEvent", "AskOptions", "AsyncClient", "AsyncSession", "BadRequest",
    "Client", "Credentials", "DataLoss", "DeadlineExceeded", "Event", "FailedPrecondition",
    "ImageError", "ImageLike", "ImageNotHeld", "LinkTransfer", "NotAvailable", "NotFound",
    "Overloaded", "PermissionDenied", "PlanError", "PlanEvent", "Policy", "PolicyViolation",
    "Preset", "QuestionError", "ServerError", "Session", "SplitVLMError", "TierUnavailable",
    "Timing", "TokenEvent", "Unauthenticated", "image_bytes",
]
