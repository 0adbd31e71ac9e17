"""`Client` (blocking) and `AsyncClient` (asyncio) for the edge's Ask API; the same methods:

    stream(image, question, ...)   the PlanEvent, each TokenEvent, then the AnswerEvent
    tokens(image, question, ...)   just the answer's words, as they are produced
    ask(image, question, ...)      the Answer
    session(image)                 a multi-turn conversation about one image

Options go as an `AskOptions`, as keywords (`deadline_s=1.0, policy="offline"`), or both (the
keywords win). Errors are splitvlm's tree (splitvlm.errors), raised `from` the grpc.RpcError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

import grpc

from splitvlm.errors import ImageNotHeld, ServerError
from splitvlm.executor.messages import TokenEvent
from splitvlm.sdk.answer import Answer
from splitvlm.sdk.credentials import Credentials
from splitvlm.sdk.events import AnswerEvent, Event, EventReader
from splitvlm.sdk.images import ImageLike, image_bytes
from splitvlm.sdk.options import AskFields, AskOptions
from splitvlm.service.convert import POLICY, PRESET
from splitvlm.service.errors import error_from_rpc
from splitvlm.v1 import edge_pb2, edge_pb2_grpc

if TYPE_CHECKING:
    from typing import Unpack

MAX_MESSAGE_BYTES = 64 << 20
OPTIONS = [("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
           ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]


def ask_request(image: ImageLike | None, question: str, options: AskOptions,
                image_key: str = "") -> edge_pb2.AskRequest:
    return edge_pb2.AskRequest(
        image=b"" if image is None else image_bytes(image), image_key=image_key,
        question=question, plan_name=options.plan,
        policies=[POLICY.to_pb(p) for p in sorted(options.policy)],
        preset=None if options.preset is None else PRESET.to_pb(options.preset),
        max_new_tokens=options.max_new_tokens, no_cache=options.no_cache)


def _options(options: AskOptions | None, fields: AskFields) -> AskOptions:
    return (options or AskOptions()).with_fields(**fields)


class Client:
    """Blocking client. Use as a context manager, or call close(). Without `credentials` the
    channel is plaintext (an edge with insecure = true)."""

    def __init__(self, target: str, credentials: Credentials | None = None) -> None:
        self.channel = (grpc.insecure_channel(target, options=OPTIONS) if credentials is None
                        else grpc.secure_channel(target, credentials.channel_credentials(),
                                                 options=OPTIONS))
        self.stub = edge_pb2_grpc.EdgeServiceStub(self.channel)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def stream(self, image: ImageLike | None, question: str, options: AskOptions | None = None,
               *, image_key: str = "", **fields: Unpack[AskFields]) -> Iterator[Event]:
        """Events as they arrive: the plan, then each token, then the answer."""
        opts = _options(options, fields)
        request = ask_request(image, question, opts, image_key)
        reader = EventReader()
        try:
            for msg in self.stub.Ask(request, timeout=opts.deadline_s,
                                     wait_for_ready=opts.wait_for_ready):
                yield reader.read(msg)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    def tokens(self, image: ImageLike | None, question: str, options: AskOptions | None = None,
               *, image_key: str = "", **fields: Unpack[AskFields]) -> Iterator[str]:
        """Just the answer's words, as they are produced."""
        for event in self.stream(image, question, options, image_key=image_key, **fields):
            if isinstance(event, TokenEvent):
                yield event.text

    def ask(self, image: ImageLike | None, question: str, options: AskOptions | None = None,
            *, image_key: str = "", **fields: Unpack[AskFields]) -> Answer:
        for event in self.stream(image, question, options, image_key=image_key, **fields):
            if isinstance(event, AnswerEvent):
                return event.answer
        raise ServerError("the edge closed the stream without an answer")

    def session(self, image: ImageLike) -> Session:
        """A multi-turn conversation about `image` (see Session)."""
        return Session(self, image)


class Session:
    """Several questions about one image: the first turn sends it, later turns only its key
    (the edge and fog keep its pixels and visual tokens). If the edge no longer holds the
    image (ImageNotHeld), the session sends it again."""

    def __init__(self, client: Client, image: ImageLike) -> None:
        self.client, self.image = client, image_bytes(image)
        self.image_key = ""
        self.turns = 0

    def ask(self, question: str, options: AskOptions | None = None,
            **fields: Unpack[AskFields]) -> Answer:
        self.turns += 1
        if self.image_key:
            try:
                return self.client.ask(None, question, options, image_key=self.image_key,
                                       **fields)
            except ImageNotHeld:
                pass  # evicted at the edge: send the image again
        answer = self.client.ask(self.image, question, options, **fields)
        self.image_key = answer.image_key
        return answer


class AsyncClient:
    """asyncio client: `async with AsyncClient(target) as c: await c.ask(...)`."""

    def __init__(self, target: str, credentials: Credentials | None = None) -> None:
        self.channel = (grpc.aio.insecure_channel(target, options=OPTIONS) if credentials is None
                        else grpc.aio.secure_channel(target, credentials.channel_credentials(),
                                                     options=OPTIONS))
        self.stub = edge_pb2_grpc.EdgeServiceStub(self.channel)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def stream(self, image: ImageLike | None, question: str,
                     options: AskOptions | None = None, *, image_key: str = "",
                     **fields: Unpack[AskFields]) -> AsyncIterator[Event]:
        """Events as they arrive: the plan, then each token, then the answer."""
        opts = _options(options, fields)
        request = ask_request(image, question, opts, image_key)
        reader = EventReader()
        try:
            async for msg in self.stub.Ask(request, timeout=opts.deadline_s,
                                           wait_for_ready=opts.wait_for_ready):
                yield reader.read(msg)
        except grpc.RpcError as exc:
            raise error_from_rpc(exc) from exc

    async def tokens(self, image: ImageLike | None, question: str,
                     options: AskOptions | None = None, *, image_key: str = "",
                     **fields: Unpack[AskFields]) -> AsyncIterator[str]:
        """Just the answer's words, as they are produced."""
        async for event in self.stream(image, question, options, image_key=image_key,
                                       **fields):
            if isinstance(event, TokenEvent):
                yield event.text

    async def ask(self, image: ImageLike | None, question: str,
                  options: AskOptions | None = None, *, image_key: str = "",
                  **fields: Unpack[AskFields]) -> Answer:
        async for event in self.stream(image, question, options, image_key=image_key,
                                       **fields):
            if isinstance(event, AnswerEvent):
                return event.answer
        raise ServerError("the edge closed the stream without an answer")

    def session(self, image: ImageLike) -> AsyncSession:
        """A multi-turn conversation about `image` (see AsyncSession)."""
        return AsyncSession(self, image)


class AsyncSession:
    """Session for AsyncClient: later turns send only the image's key."""

    def __init__(self, client: AsyncClient, image: ImageLike) -> None:
        self.client, self.image = client, image_bytes(image)
        self.image_key = ""
        self.turns = 0

    async def ask(self, question: str, options: AskOptions | None = None,
                  **fields: Unpack[AskFields]) -> Answer:
        self.turns += 1
        if self.image_key:
            try:
                return await self.client.ask(None, question, options,
                                             image_key=self.image_key, **fields)
            except ImageNotHeld:
                pass  # evicted at the edge: send the image again
        answer = await self.client.ask(self.image, question, options, **fields)
        self.image_key = answer.image_key
        return answer
